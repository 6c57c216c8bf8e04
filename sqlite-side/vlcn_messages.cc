#include "crbridge/sqlite/vlcn_messages.h"

#include <algorithm>

#include "lib0_codec.h"

namespace crbridge {
namespace {

// Value type bytes of ws-common's encoder.
enum ValueType : uint8_t { kNullType = 0, kBigIntType = 1, kNumberType = 2, kStringType = 3, kBoolType = 4, kBlobType = 5 };

// The smallest encodings, used to bound counts before allocating.
constexpr size_t kMinLastSeenBytes = 16 + 8 + 1;
constexpr size_t kMinChangeBytes = 1 + 1 + 1 + 1 + 8 + 8 + 1 + 8 + 1;

void WritePosition(Lib0Writer& w, const StreamPosition& p) {
  w.I64(p.version);
  w.VarInt(p.seq);
}

void WriteValue(Lib0Writer& w, const Value& v) {
  switch (v.storage_class()) {
    case StorageClass::kNull: w.U8(kNullType); break;
    case StorageClass::kInteger: w.U8(kBigIntType); w.I64(v.integer()); break;
    case StorageClass::kFloat: w.U8(kNumberType); w.F64(v.real()); break;
    case StorageClass::kText: w.U8(kStringType); w.String(v.text()); break;
    case StorageClass::kBlob: w.U8(kBlobType); w.VarBytes(v.blob()); break;
  }
}

void WriteChanges(Lib0Writer& w, const Changeset& changes) {
  w.VarUint(changes.size());
  for (const Change& c : changes) {
    w.String(c.table);
    w.VarBytes(c.pk);
    w.String(c.cid);
    WriteValue(w, c.val);
    w.I64(c.col_version);
    w.I64(c.db_version);
    if (c.site_id) {
      w.U8(kBlobType);
      w.Bytes(*c.site_id);
    } else {
      w.U8(kNullType);
    }
    w.I64(c.cl);
    w.VarInt(c.seq);
  }
}

void WriteChangesHeader(Lib0Writer& w, const SiteId& sender, const StreamPosition& since) {
  w.U8(static_cast<uint8_t>(MessageTag::kChanges));
  w.Bytes(sender);
  WritePosition(w, since);
}

// The lengths of lib0's variable-length numbers.
size_t VarUintSize(uint64_t v) {
  size_t n = 1;
  for (; v > 0x7f; v >>= 7) ++n;
  return n;
}

size_t VarIntSize(int64_t v) {
  uint64_t magnitude = v < 0 ? ~static_cast<uint64_t>(v) + 1 : static_cast<uint64_t>(v);
  size_t n = 1;
  for (magnitude >>= 6; magnitude > 0; magnitude >>= 7) ++n;
  return n;
}

size_t EncodedSize(const Value& v) {
  switch (v.storage_class()) {
    case StorageClass::kNull: return 1;
    case StorageClass::kInteger:
    case StorageClass::kFloat: return 1 + 8;
    case StorageClass::kText: return 1 + VarUintSize(v.text().size()) + v.text().size();
    case StorageClass::kBlob: return 1 + VarUintSize(v.blob().size()) + v.blob().size();
  }
  return 0;
}

struct Encoder {
  Lib0Writer& w;
  void operator()(const AnnouncePresence& m) {
    w.U8(static_cast<uint8_t>(MessageTag::kAnnouncePresence));
    w.Bytes(m.sender);
    w.VarUint(m.last_seens.size());
    for (const LastSeen& seen : m.last_seens) {
      w.Bytes(seen.site);
      WritePosition(w, seen.position);
    }
    w.String(m.schema_name);
    w.I64(m.schema_version);
  }
  void operator()(const ChangesMessage& m) {
    WriteChangesHeader(w, m.sender, m.since);
    WriteChanges(w, m.changes);
  }
  void operator()(const RejectChanges& m) {
    w.U8(static_cast<uint8_t>(MessageTag::kRejectChanges));
    w.Bytes(m.whose);
    WritePosition(w, m.since);
  }
  void operator()(const StartStreaming& m) {
    w.U8(static_cast<uint8_t>(MessageTag::kStartStreaming));
    WritePosition(w, m.since);
    w.VarUint(m.exclude_sites.size());
    for (const SiteId& site : m.exclude_sites) w.Bytes(site);
    w.U8(m.local_only ? 1 : 0);
  }
  void operator()(const Ping&) { w.U8(static_cast<uint8_t>(MessageTag::kPing)); }
  void operator()(const Pong&) { w.U8(static_cast<uint8_t>(MessageTag::kPong)); }
  void operator()(const ErrMessage& m) {
    w.U8(static_cast<uint8_t>(MessageTag::kErr));
    w.VarInt(m.request_id);
    w.String(m.message);
  }
};

Status ReadSite(Lib0Reader& r, const char* what, SiteId* site) {
  std::span<const uint8_t> bytes;
  CRBRIDGE_RETURN_IF_ERROR(r.Bytes(what, site->size(), &bytes));
  std::copy(bytes.begin(), bytes.end(), site->begin());
  return Status::OK();
}

Status ReadPosition(Lib0Reader& r, const char* what, StreamPosition* p) {
  CRBRIDGE_RETURN_IF_ERROR(r.I64(what, &p->version));
  return r.VarInt(what, &p->seq);
}

Status ReadCount(Lib0Reader& r, const char* what, size_t min_item_bytes, size_t* count) {
  uint64_t n = 0;
  CRBRIDGE_RETURN_IF_ERROR(r.VarUint(what, &n));
  if (n > r.remaining() / min_item_bytes) {
    return Status::Corruption(std::string(what) + ": count " + std::to_string(n) + " exceeds the message");
  }
  *count = static_cast<size_t>(n);
  return Status::OK();
}

Status ReadValue(Lib0Reader& r, Value* v) {
  uint8_t type = 0;
  CRBRIDGE_RETURN_IF_ERROR(r.U8("value type", &type));
  switch (type) {
    case kNullType:
      *v = Value::Null();
      return Status::OK();
    case kBigIntType: {
      int64_t n = 0;
      CRBRIDGE_RETURN_IF_ERROR(r.I64("integer value", &n));
      *v = Value::Integer(n);
      return Status::OK();
    }
    case kNumberType: {
      double d = 0;
      CRBRIDGE_RETURN_IF_ERROR(r.F64("number value", &d));
      *v = Value::Float(d);
      return Status::OK();
    }
    case kStringType: {
      std::string text;
      CRBRIDGE_RETURN_IF_ERROR(r.String("text value", &text));
      *v = Value::Text(std::move(text));
      return Status::OK();
    }
    case kBoolType: {
      uint8_t b = 0;
      CRBRIDGE_RETURN_IF_ERROR(r.U8("boolean value", &b));
      *v = Value::Integer(b == 1 ? 1 : 0);
      return Status::OK();
    }
    case kBlobType: {
      std::span<const uint8_t> bytes;
      CRBRIDGE_RETURN_IF_ERROR(r.VarBytes("blob value", &bytes));
      *v = Value::BlobValue(Blob(bytes.begin(), bytes.end()));
      return Status::OK();
    }
    default:
      return Status::Corruption("unknown value type " + std::to_string(type));
  }
}

Status ReadChanges(Lib0Reader& r, Changeset* changes) {
  size_t count = 0;
  CRBRIDGE_RETURN_IF_ERROR(ReadCount(r, "change count", kMinChangeBytes, &count));
  changes->resize(count);
  for (Change& c : *changes) {
    CRBRIDGE_RETURN_IF_ERROR(r.String("change table", &c.table));
    std::span<const uint8_t> pk;
    CRBRIDGE_RETURN_IF_ERROR(r.VarBytes("change pk", &pk));
    c.pk.assign(pk.begin(), pk.end());
    CRBRIDGE_RETURN_IF_ERROR(r.String("change cid", &c.cid));
    CRBRIDGE_RETURN_IF_ERROR(ReadValue(r, &c.val));
    CRBRIDGE_RETURN_IF_ERROR(r.I64("change col_version", &c.col_version));
    CRBRIDGE_RETURN_IF_ERROR(r.I64("change db_version", &c.db_version));
    uint8_t site_type = 0;
    CRBRIDGE_RETURN_IF_ERROR(r.U8("change site type", &site_type));
    if (site_type != kNullType) {
      SiteId site;
      CRBRIDGE_RETURN_IF_ERROR(ReadSite(r, "change site id", &site));
      c.site_id = site;
    } else {
      c.site_id.reset();
    }
    CRBRIDGE_RETURN_IF_ERROR(r.I64("change cl", &c.cl));
    CRBRIDGE_RETURN_IF_ERROR(r.VarInt("change seq", &c.seq));
  }
  return Status::OK();
}

Status DecodeBody(MessageTag tag, Lib0Reader& r, Message* message) {
  switch (tag) {
    case MessageTag::kAnnouncePresence: {
      AnnouncePresence m;
      CRBRIDGE_RETURN_IF_ERROR(ReadSite(r, "sender", &m.sender));
      size_t count = 0;
      CRBRIDGE_RETURN_IF_ERROR(ReadCount(r, "last-seen count", kMinLastSeenBytes, &count));
      m.last_seens.resize(count);
      for (LastSeen& seen : m.last_seens) {
        CRBRIDGE_RETURN_IF_ERROR(ReadSite(r, "last-seen site", &seen.site));
        CRBRIDGE_RETURN_IF_ERROR(ReadPosition(r, "last-seen position", &seen.position));
      }
      CRBRIDGE_RETURN_IF_ERROR(r.String("schema name", &m.schema_name));
      CRBRIDGE_RETURN_IF_ERROR(r.I64("schema version", &m.schema_version));
      *message = std::move(m);
      return Status::OK();
    }
    case MessageTag::kChanges: {
      ChangesMessage m;
      CRBRIDGE_RETURN_IF_ERROR(ReadSite(r, "sender", &m.sender));
      CRBRIDGE_RETURN_IF_ERROR(ReadPosition(r, "since", &m.since));
      CRBRIDGE_RETURN_IF_ERROR(ReadChanges(r, &m.changes));
      *message = std::move(m);
      return Status::OK();
    }
    case MessageTag::kRejectChanges: {
      RejectChanges m;
      CRBRIDGE_RETURN_IF_ERROR(ReadSite(r, "whose", &m.whose));
      CRBRIDGE_RETURN_IF_ERROR(ReadPosition(r, "since", &m.since));
      *message = m;
      return Status::OK();
    }
    case MessageTag::kStartStreaming: {
      StartStreaming m;
      CRBRIDGE_RETURN_IF_ERROR(ReadPosition(r, "since", &m.since));
      size_t count = 0;
      CRBRIDGE_RETURN_IF_ERROR(ReadCount(r, "excluded site count", 16, &count));
      m.exclude_sites.resize(count);
      for (SiteId& site : m.exclude_sites) CRBRIDGE_RETURN_IF_ERROR(ReadSite(r, "excluded site", &site));
      uint8_t local_only = 0;
      CRBRIDGE_RETURN_IF_ERROR(r.U8("localOnly", &local_only));
      m.local_only = local_only == 1;
      *message = std::move(m);
      return Status::OK();
    }
    case MessageTag::kPing:
      *message = Ping{};
      return Status::OK();
    case MessageTag::kPong:
      *message = Pong{};
      return Status::OK();
    case MessageTag::kErr: {
      ErrMessage m;
      CRBRIDGE_RETURN_IF_ERROR(r.VarInt("request id", &m.request_id));
      CRBRIDGE_RETURN_IF_ERROR(r.String("error message", &m.message));
      *message = std::move(m);
      return Status::OK();
    }
  }
  return Status::InvalidArgument("unknown message tag " + std::to_string(static_cast<int>(tag)));
}

}  // namespace

size_t EncodedSize(const Change& c) {
  return VarUintSize(c.table.size()) + c.table.size() + VarUintSize(c.pk.size()) + c.pk.size() +
         VarUintSize(c.cid.size()) + c.cid.size() + EncodedSize(c.val) + 8 + 8 + (c.site_id ? 1 + 16 : 1) + 8 +
         VarIntSize(c.seq);
}

Blob EncodeMessage(const Message& message) {
  Lib0Writer writer;
  std::visit(Encoder{writer}, message);
  return writer.Finish();
}

Blob EncodeChanges(const Changeset& changes) {
  Lib0Writer writer;
  WriteChanges(writer, changes);
  return writer.Finish();
}

Blob EncodeChangesMessage(const SiteId& sender, const StreamPosition& since, std::span<const uint8_t> changes) {
  Lib0Writer writer;
  WriteChangesHeader(writer, sender, since);
  writer.Bytes(changes);
  return writer.Finish();
}

Status DecodeMessage(std::span<const uint8_t> frame, Message* message) {
  Lib0Reader reader(frame);
  uint8_t tag = 0;
  if (Status s = reader.U8("message tag", &tag); !s.ok()) return Status::Corruption("empty message");
  switch (tag) {
    case 5: case 6: case 9: case 11:
      return Status::InvalidArgument("message tag " + std::to_string(tag) +
                                     " belongs to the primary/replica protocol, which crbridge does not serve");
    default:
      break;
  }
  return DecodeBody(static_cast<MessageTag>(tag), reader, message);
}

}  // namespace crbridge
