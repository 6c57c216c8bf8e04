#include "crbridge/connector/postgres/pgoutput_decoder.h"

#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <random>

namespace crbridge {
using namespace crbridge::postgres;  // the dialect under test
namespace {

// Builds wire messages byte by byte, independently of the decoder.
class WireWriter {
 public:
  explicit WireWriter(char type) { bytes_.push_back(type); }

  WireWriter& U8(uint8_t value) { return BigEndian(value, 1); }
  WireWriter& I16(int16_t value) { return BigEndian(static_cast<uint16_t>(value), 2); }
  WireWriter& I32(int32_t value) { return BigEndian(static_cast<uint32_t>(value), 4); }
  WireWriter& U32(uint32_t value) { return BigEndian(value, 4); }
  WireWriter& I64(int64_t value) { return BigEndian(static_cast<uint64_t>(value), 8); }
  WireWriter& U64(uint64_t value) { return BigEndian(value, 8); }
  WireWriter& String(std::string_view text) {
    bytes_.append(text);
    bytes_.push_back('\0');
    return *this;
  }
  WireWriter& Raw(std::string_view raw) {
    bytes_.append(raw);
    return *this;
  }

  // Tuple columns.
  WireWriter& Null() { return U8('n'); }
  WireWriter& UnchangedToast() { return U8('u'); }
  WireWriter& Text(std::string_view text) { return U8('t').I32(static_cast<int32_t>(text.size())).Raw(text); }
  WireWriter& Binary(std::string_view data) { return U8('b').I32(static_cast<int32_t>(data.size())).Raw(data); }

  std::string bytes() const { return bytes_; }

 private:
  WireWriter& BigEndian(uint64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) bytes_.push_back(static_cast<char>((value >> (i * 8)) & 0xff));
    return *this;
  }

  std::string bytes_;
};

constexpr uint32_t kXid = 0xFEDC'BA98;
constexpr uint32_t kRelid = 16'385;
constexpr uint64_t kLsn = 0x0000'0016'B374'D848;
// 2024-05-06 07:08:09.123456 UTC in Postgres's epoch.
constexpr PgTimestamp kCommitTime = 768'294'489'123'456;

// A pgoutput message and the stream-block state it must be decoded in.
struct WireMessage {
  std::string bytes;
  bool in_stream_block = false;
};

PgTupleValue Text(std::string data) { return {PgTupleValueKind::kText, std::move(data)}; }
PgTupleValue Binary(std::string data) { return {PgTupleValueKind::kBinary, std::move(data)}; }
const PgTupleValue kNull{PgTupleValueKind::kNull, ""};
const PgTupleValue kUnchangedToast{PgTupleValueKind::kUnchangedToast, ""};

std::string BeginBytes() { return WireWriter('B').U64(kLsn).I64(kCommitTime).U32(kXid).bytes(); }

std::string CommitBytes() { return WireWriter('C').U8(0).U64(kLsn).U64(kLsn + 48).I64(kCommitTime).bytes(); }

std::string OriginBytes() { return WireWriter('O').U64(kLsn - 1).String("crbridge").bytes(); }

WireWriter RelationWriter(std::optional<uint32_t> xid) {
  WireWriter w('R');
  if (xid) w.U32(*xid);
  w.U32(kRelid).String("app").String("todos").U8('i').I16(3);
  w.U8(1).String("id").U32(25).I32(-1);
  w.U8(0).String("title").U32(1043).I32(104);  // varchar(100): typmod is length + 4
  w.U8(0).String("mood").U32(90'000).I32(-1);
  return w;
}

std::string TypeBytes() { return WireWriter('Y').U32(90'000).String("app").String("mood").bytes(); }

// The tuple that exercises every value kind.
WireWriter& AllKindsTuple(WireWriter& w) {
  return w.I16(6)
      .Null()
      .UnchangedToast()
      .Text("grüße, 世界 🙂")
      .Text("")
      .Binary(std::string("\x00\x01\xff\x00", 4))
      .Text("42");
}
PgTuple AllKindsValues() {
  return {kNull, kUnchangedToast, Text("grüße, 世界 🙂"), Text(""), Binary(std::string("\x00\x01\xff\x00", 4)),
          Text("42")};
}

std::string InsertBytes(std::optional<uint32_t> xid) {
  WireWriter w('I');
  if (xid) w.U32(*xid);
  return AllKindsTuple(w.U32(kRelid).U8('N')).bytes();
}

std::string UpdateWithoutOldBytes() { return WireWriter('U').U32(kRelid).U8('N').I16(2).Text("1").Text("b").bytes(); }
std::string UpdateWithKeyBytes() {
  return WireWriter('U').U32(kRelid).U8('K').I16(2).Text("1").Null().U8('N').I16(2).Text("2").UnchangedToast().bytes();
}
std::string UpdateWithOldRowBytes() {
  return WireWriter('U').U32(kRelid).U8('O').I16(2).Text("1").Text("a").U8('N').I16(2).Text("1").Text("b").bytes();
}
std::string DeleteWithKeyBytes() { return WireWriter('D').U32(kRelid).U8('K').I16(2).Text("1").Null().bytes(); }
std::string DeleteWithOldRowBytes() {
  return WireWriter('D').U32(kRelid).U8('O').I16(2).Text("1").Binary("\x7f").bytes();
}

std::string TruncateBytes(std::optional<uint32_t> xid, uint8_t options) {
  WireWriter w('T');
  if (xid) w.U32(*xid);
  return w.I32(3).U8(options).U32(kRelid).U32(kRelid + 1).U32(0xFFFF'FFFF).bytes();
}

std::string LogicalMessageBytes(std::optional<uint32_t> xid, uint8_t flags) {
  WireWriter w('M');
  if (xid) w.U32(*xid);
  return w.U8(flags).U64(kLsn).String("crbridge").I32(5).Raw(std::string("a\0b\xffz", 5)).bytes();
}

std::string StreamStartBytes() { return WireWriter('S').U32(kXid).U8(1).bytes(); }
std::string StreamStopBytes() { return WireWriter('E').bytes(); }
std::string StreamCommitBytes() {
  return WireWriter('c').U32(kXid).U8(0).U64(kLsn).U64(kLsn + 16).I64(kCommitTime).bytes();
}
std::string StreamAbortBytes() { return WireWriter('A').U32(kXid).U32(kXid + 1).bytes(); }

std::vector<WireMessage> AllValidMessages() {
  return {
      {BeginBytes()},
      {CommitBytes()},
      {OriginBytes()},
      {RelationWriter(std::nullopt).bytes()},
      {RelationWriter(kXid).bytes(), true},
      {TypeBytes()},
      {WireWriter('Y').U32(kXid).U32(90'000).String("").String("int4").bytes(), true},
      {InsertBytes(std::nullopt)},
      {InsertBytes(kXid), true},
      {UpdateWithoutOldBytes()},
      {UpdateWithKeyBytes()},
      {UpdateWithOldRowBytes()},
      {DeleteWithKeyBytes()},
      {DeleteWithOldRowBytes()},
      {TruncateBytes(std::nullopt, 3)},
      {TruncateBytes(kXid, 0), true},
      {LogicalMessageBytes(std::nullopt, 0)},
      {LogicalMessageBytes(kXid, 1), true},
      {StreamStartBytes()},
      {StreamStopBytes(), true},
      {StreamCommitBytes()},
      {StreamAbortBytes()},
  };
}

// Exact-size heap copy, so that ASan catches any read past the end.
class ExactCopy {
 public:
  explicit ExactCopy(std::string_view bytes) : bytes_(std::make_unique<char[]>(bytes.size())), size_(bytes.size()) {
    std::copy(bytes.begin(), bytes.end(), bytes_.get());
  }
  std::string_view view() const { return {bytes_.get(), size_}; }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t size_;
};

PgOutputDecoder DecoderInStreamBlock() {
  PgOutputDecoder decoder;
  PgMessage start;
  EXPECT_TRUE(decoder.Decode(StreamStartBytes(), &start).ok());
  return decoder;
}

// Decodes `bytes` with a fresh decoder in the given state; fails the test
// unless it decodes to a T.
template <typename T>
T DecodeAs(const std::string& bytes, bool in_stream_block = false) {
  PgOutputDecoder decoder = in_stream_block ? DecoderInStreamBlock() : PgOutputDecoder();
  PgMessage message;
  const ExactCopy copy(bytes);
  const Status status = decoder.Decode(copy.view(), &message);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(std::holds_alternative<T>(message)) << "variant index " << message.index();
  return std::holds_alternative<T>(message) ? std::get<T>(message) : T{};
}

Status DecodeStatus(const std::string& bytes, bool in_stream_block = false) {
  PgOutputDecoder decoder = in_stream_block ? DecoderInStreamBlock() : PgOutputDecoder();
  PgMessage message;
  const ExactCopy copy(bytes);
  return decoder.Decode(copy.view(), &message);
}

void ExpectCorruption(const Status& status, std::string_view expected_message) {
  EXPECT_EQ(status.code(), Status::Code::kCorruption) << status.ToString();
  EXPECT_EQ(status.message(), expected_message);
}

TEST(PgOutputDecoderTest, Begin) {
  const auto begin = DecodeAs<PgBegin>(BeginBytes());
  EXPECT_EQ(begin.final_lsn, kLsn);
  EXPECT_EQ(begin.commit_time, kCommitTime);
  EXPECT_EQ(begin.xid, kXid);
}

TEST(PgOutputDecoderTest, Commit) {
  const auto commit = DecodeAs<PgCommit>(CommitBytes());
  EXPECT_EQ(commit.flags, 0);
  EXPECT_EQ(commit.commit_lsn, kLsn);
  EXPECT_EQ(commit.end_lsn, kLsn + 48);
  EXPECT_EQ(commit.commit_time, kCommitTime);
}

TEST(PgOutputDecoderTest, Origin) {
  const auto origin = DecodeAs<PgOrigin>(OriginBytes());
  EXPECT_EQ(origin.origin_lsn, kLsn - 1);
  EXPECT_EQ(origin.name, "crbridge");
}

TEST(PgOutputDecoderTest, RelationWithColumnsAndKey) {
  const auto relation = DecodeAs<PgRelation>(RelationWriter(std::nullopt).bytes());
  EXPECT_EQ(relation.xid, std::nullopt);
  EXPECT_EQ(relation.relid, kRelid);
  EXPECT_EQ(relation.namespace_name, "app");
  EXPECT_EQ(relation.name, "todos");
  EXPECT_EQ(relation.replica_identity, PgReplicaIdentity::kIndex);
  const std::vector<PgRelationColumn> expected = {
      {"id", 25, -1, true},
      {"title", 1043, 104, false},
      {"mood", 90'000, -1, false},
  };
  EXPECT_EQ(relation.columns, expected);
}

TEST(PgOutputDecoderTest, RelationEveryReplicaIdentityAndNoColumns) {
  const std::pair<char, PgReplicaIdentity> identities[] = {{'d', PgReplicaIdentity::kDefault},
                                                          {'n', PgReplicaIdentity::kNothing},
                                                          {'f', PgReplicaIdentity::kFull},
                                                          {'i', PgReplicaIdentity::kIndex}};
  for (const auto& [byte, identity] : identities) {
    const auto relation =
        DecodeAs<PgRelation>(WireWriter('R').U32(1).String("").String("pg_class").U8(byte).I16(0).bytes());
    EXPECT_EQ(relation.replica_identity, identity) << byte;
    EXPECT_EQ(relation.namespace_name, "pg_catalog") << "the wire's \"\" means pg_catalog";
    EXPECT_TRUE(relation.columns.empty());
  }
}

TEST(PgOutputDecoderTest, Type) {
  const auto type = DecodeAs<PgType>(TypeBytes());
  EXPECT_EQ(type.xid, std::nullopt);
  EXPECT_EQ(type.type_oid, 90'000u);
  EXPECT_EQ(type.namespace_name, "app");
  EXPECT_EQ(type.name, "mood");
  EXPECT_EQ(DecodeAs<PgType>(WireWriter('Y').U32(23).String("").String("int4").bytes()).namespace_name,
            "pg_catalog");
}

TEST(PgOutputDecoderTest, InsertWithEveryValueKind) {
  const auto insert = DecodeAs<PgInsert>(InsertBytes(std::nullopt));
  EXPECT_EQ(insert.xid, std::nullopt);
  EXPECT_EQ(insert.relid, kRelid);
  EXPECT_EQ(insert.new_tuple, AllKindsValues());
  ASSERT_EQ(insert.new_tuple.size(), 6u);
  EXPECT_EQ(insert.new_tuple[2].data, "gr\xC3\xBC\xC3\x9F" "e, \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x99\x82");
  EXPECT_EQ(insert.new_tuple[4].data.size(), 4u) << "binary data keeps its NUL bytes";
}

TEST(PgOutputDecoderTest, InsertWithEmptyTuple) {
  EXPECT_TRUE(DecodeAs<PgInsert>(WireWriter('I').U32(kRelid).U8('N').I16(0).bytes()).new_tuple.empty());
}

TEST(PgOutputDecoderTest, UpdateWithoutOldTuple) {
  const auto update = DecodeAs<PgUpdate>(UpdateWithoutOldBytes());
  EXPECT_EQ(update.xid, std::nullopt);
  EXPECT_EQ(update.relid, kRelid);
  EXPECT_EQ(update.old_tuple, std::nullopt);
  EXPECT_EQ(update.new_tuple, (PgTuple{Text("1"), Text("b")}));
}

TEST(PgOutputDecoderTest, UpdateWithOldKey) {
  const auto update = DecodeAs<PgUpdate>(UpdateWithKeyBytes());
  EXPECT_EQ(update.relid, kRelid);
  ASSERT_TRUE(update.old_tuple.has_value());
  EXPECT_EQ(update.old_tuple->kind, PgOldTupleKind::kKeyColumns);
  EXPECT_EQ(update.old_tuple->values, (PgTuple{Text("1"), kNull}));
  EXPECT_EQ(update.new_tuple, (PgTuple{Text("2"), kUnchangedToast}));
}

TEST(PgOutputDecoderTest, UpdateWithOldRow) {
  const auto update = DecodeAs<PgUpdate>(UpdateWithOldRowBytes());
  EXPECT_EQ(update.relid, kRelid);
  ASSERT_TRUE(update.old_tuple.has_value());
  EXPECT_EQ(update.old_tuple->kind, PgOldTupleKind::kFullRow);
  EXPECT_EQ(update.old_tuple->values, (PgTuple{Text("1"), Text("a")}));
  EXPECT_EQ(update.new_tuple, (PgTuple{Text("1"), Text("b")}));
}

TEST(PgOutputDecoderTest, DeleteWithOldKey) {
  const auto deletion = DecodeAs<PgDelete>(DeleteWithKeyBytes());
  EXPECT_EQ(deletion.xid, std::nullopt);
  EXPECT_EQ(deletion.relid, kRelid);
  EXPECT_EQ(deletion.old_tuple.kind, PgOldTupleKind::kKeyColumns);
  EXPECT_EQ(deletion.old_tuple.values, (PgTuple{Text("1"), kNull}));
}

TEST(PgOutputDecoderTest, DeleteWithOldRow) {
  const auto deletion = DecodeAs<PgDelete>(DeleteWithOldRowBytes());
  EXPECT_EQ(deletion.relid, kRelid);
  EXPECT_EQ(deletion.old_tuple.kind, PgOldTupleKind::kFullRow);
  EXPECT_EQ(deletion.old_tuple.values, (PgTuple{Text("1"), Binary("\x7f")}));
}

TEST(PgOutputDecoderTest, TruncateSeveralRelationsWithEachOption) {
  const std::vector<uint32_t> relids = {kRelid, kRelid + 1, 0xFFFF'FFFF};
  const struct {
    uint8_t options;
    bool cascade;
    bool restart_identity;
  } cases[] = {{0, false, false}, {1, true, false}, {2, false, true}, {3, true, true}};
  for (const auto& c : cases) {
    const auto truncate = DecodeAs<PgTruncate>(TruncateBytes(std::nullopt, c.options));
    EXPECT_EQ(truncate.xid, std::nullopt);
    EXPECT_EQ(truncate.relids, relids);
    EXPECT_EQ(truncate.cascade, c.cascade) << int{c.options};
    EXPECT_EQ(truncate.restart_identity, c.restart_identity) << int{c.options};
  }
}

TEST(PgOutputDecoderTest, LogicalMessage) {
  const auto message = DecodeAs<PgLogicalMessage>(LogicalMessageBytes(std::nullopt, 0));
  EXPECT_EQ(message.xid, std::nullopt);
  EXPECT_FALSE(message.transactional);
  EXPECT_EQ(message.lsn, kLsn);
  EXPECT_EQ(message.prefix, "crbridge");
  EXPECT_EQ(message.content, std::string("a\0b\xffz", 5));
  EXPECT_TRUE(DecodeAs<PgLogicalMessage>(LogicalMessageBytes(std::nullopt, 1)).transactional);
}

TEST(PgOutputDecoderTest, StreamControlMessages) {
  const auto start = DecodeAs<PgStreamStart>(StreamStartBytes());
  EXPECT_EQ(start.xid, kXid);
  EXPECT_TRUE(start.first_segment);
  EXPECT_FALSE(DecodeAs<PgStreamStart>(WireWriter('S').U32(kXid).U8(0).bytes()).first_segment);

  EXPECT_EQ(DecodeAs<PgStreamStop>(StreamStopBytes(), true), PgStreamStop{});

  const auto commit = DecodeAs<PgStreamCommit>(StreamCommitBytes());
  EXPECT_EQ(commit.xid, kXid);
  EXPECT_EQ(commit.flags, 0);
  EXPECT_EQ(commit.commit_lsn, kLsn);
  EXPECT_EQ(commit.end_lsn, kLsn + 16);
  EXPECT_EQ(commit.commit_time, kCommitTime);

  const auto abort = DecodeAs<PgStreamAbort>(StreamAbortBytes());
  EXPECT_EQ(abort.xid, kXid);
  EXPECT_EQ(abort.subxid, kXid + 1);
}

// A streamed transaction as the server sends it: data messages carry the
// xid only between Stream Start and Stream Stop.
TEST(PgOutputDecoderTest, DataMessagesCarryTheXidOnlyInsideStreamBlocks) {
  PgOutputDecoder decoder;
  PgMessage message;
  auto decode = [&](const std::string& bytes) {
    const Status status = decoder.Decode(bytes, &message);
    EXPECT_TRUE(status.ok()) << status.ToString();
  };
  EXPECT_FALSE(decoder.in_stream_block());
  decode(StreamStartBytes());
  EXPECT_TRUE(decoder.in_stream_block());

  decode(RelationWriter(kXid).bytes());
  PgRelation expected_relation = DecodeAs<PgRelation>(RelationWriter(std::nullopt).bytes());
  expected_relation.xid = kXid;
  EXPECT_EQ(std::get<PgRelation>(message), expected_relation);

  decode(WireWriter('Y').U32(kXid + 1).U32(90'000).String("app").String("mood").bytes());
  EXPECT_EQ(std::get<PgType>(message), (PgType{kXid + 1, 90'000, "app", "mood"}));
  decode(InsertBytes(kXid + 2));
  EXPECT_EQ(std::get<PgInsert>(message), (PgInsert{kXid + 2, kRelid, AllKindsValues()}));
  decode(WireWriter('U').U32(kXid).U32(kRelid).U8('K').I16(1).Text("1").U8('N').I16(1).Text("2").bytes());
  EXPECT_EQ(std::get<PgUpdate>(message),
            (PgUpdate{kXid, kRelid, PgOldTuple{PgOldTupleKind::kKeyColumns, {Text("1")}}, {Text("2")}}));
  decode(WireWriter('D').U32(kXid).U32(kRelid).U8('O').I16(1).Null().bytes());
  EXPECT_EQ(std::get<PgDelete>(message), (PgDelete{kXid, kRelid, PgOldTuple{PgOldTupleKind::kFullRow, {kNull}}}));
  decode(TruncateBytes(kXid, 2));
  EXPECT_EQ(std::get<PgTruncate>(message), (PgTruncate{kXid, {kRelid, kRelid + 1, 0xFFFF'FFFF}, false, true}));
  decode(LogicalMessageBytes(kXid, 1));
  EXPECT_EQ(std::get<PgLogicalMessage>(message),
            (PgLogicalMessage{kXid, true, kLsn, "crbridge", std::string("a\0b\xffz", 5)}));

  decode(StreamStopBytes());
  EXPECT_FALSE(decoder.in_stream_block());
  decode(InsertBytes(std::nullopt));
  EXPECT_EQ(std::get<PgInsert>(message).xid, std::nullopt);
  decode(StreamCommitBytes());
  EXPECT_EQ(std::get<PgStreamCommit>(message).xid, kXid);
}

TEST(PgOutputDecoderTest, StreamBlocksMustAlternate) {
  ExpectCorruption(DecodeStatus(StreamStopBytes()), "pgoutput: Stream Stop outside a stream block");
  ExpectCorruption(DecodeStatus(StreamStartBytes(), true), "pgoutput: Stream Start inside a stream block");
}

// With the wrong stream-block state every field of a data message is read
// 4 bytes off; it must fail rather than decode to wrong values.
TEST(PgOutputDecoderTest, WrongStreamBlockStateIsCaught) {
  EXPECT_EQ(DecodeStatus(InsertBytes(kXid)).code(), Status::Code::kCorruption);
  EXPECT_EQ(DecodeStatus(InsertBytes(std::nullopt), true).code(), Status::Code::kCorruption);
  // When the shifted fields happen to parse, the extra bytes give it away.
  ExpectCorruption(DecodeStatus(WireWriter('T').U32(0).I32(0).U8(0).bytes()),
                   "pgoutput: Truncate message has 4 extra bytes at its end");
}

TEST(PgOutputDecoderTest, FailedDecodeLeavesStateAndMessageUnchanged) {
  PgOutputDecoder decoder;
  PgMessage message = PgOrigin{7, "kept"};
  EXPECT_FALSE(decoder.Decode("S\x01", &message).ok());
  EXPECT_FALSE(decoder.in_stream_block());
  EXPECT_EQ(message, PgMessage(PgOrigin{7, "kept"}));
}

TEST(PgOutputDecoderTest, UnknownMessageTypeIsNamed) {
  const Status printable = DecodeStatus("Zxyz");
  EXPECT_EQ(printable.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(printable.message(), "pgoutput: unknown message type 'Z' (0x5a)");
  EXPECT_EQ(DecodeStatus(std::string("\x01", 1)).message(), "pgoutput: unknown message type 0x01");
  ExpectCorruption(DecodeStatus(""), "pgoutput: empty message");
}

TEST(PgOutputDecoderTest, MalformedFieldsAreNamed) {
  ExpectCorruption(DecodeStatus(RelationWriter(std::nullopt).bytes().substr(0, 12)),
                   "pgoutput: truncated Relation message (relation name)");
  ExpectCorruption(DecodeStatus(RelationWriter(std::nullopt).bytes().substr(0, 40)),
                   "pgoutput: truncated Relation message (column count)");
  ExpectCorruption(DecodeStatus(WireWriter('R').U32(1).String("s").String("t").U8('x').I16(0).bytes()),
                   "pgoutput: unknown replica identity 'x' (0x78) in Relation message");
  ExpectCorruption(DecodeStatus(WireWriter('R').U32(1).String("s").String("t").U8('d').I16(-1).bytes()),
                   "pgoutput: negative column count in Relation message");
  ExpectCorruption(DecodeStatus(WireWriter('I').U32(1).U8('N').I16(-3).bytes()),
                   "pgoutput: negative tuple column count in Insert message");
  ExpectCorruption(DecodeStatus(WireWriter('I').U32(1).U8('N').I16(1000).Null().bytes()),
                   "pgoutput: truncated Insert message (tuple column count)");
  ExpectCorruption(DecodeStatus(WireWriter('I').U32(1).U8('N').I16(1).U8('t').I32(-1).bytes()),
                   "pgoutput: negative length of tuple value in Insert message");
  ExpectCorruption(DecodeStatus(WireWriter('I').U32(1).U8('N').I16(1).U8('t').I32(10).Raw("short").bytes()),
                   "pgoutput: truncated Insert message (tuple value)");
  ExpectCorruption(DecodeStatus(WireWriter('I').U32(1).U8('N').I16(1).U8('x').bytes()),
                   "pgoutput: unknown tuple value kind 'x' (0x78) in Insert message");
  ExpectCorruption(DecodeStatus(WireWriter('I').U32(1).U8('K').I16(0).bytes()),
                   "pgoutput: expected new tuple marker 'N', got 'K' (0x4b) in Insert message");
  ExpectCorruption(DecodeStatus(WireWriter('U').U32(1).U8('X').I16(0).bytes()),
                   "pgoutput: expected tuple marker 'K', 'O' or 'N', got 'X' (0x58) in Update message");
  ExpectCorruption(DecodeStatus(WireWriter('U').U32(1).U8('K').I16(0).U8('K').I16(0).bytes()),
                   "pgoutput: expected new tuple marker 'N', got 'K' (0x4b) in Update message");
  ExpectCorruption(DecodeStatus(WireWriter('D').U32(1).U8('N').I16(0).bytes()),
                   "pgoutput: expected old tuple marker 'K' or 'O', got 'N' (0x4e) in Delete message");
  ExpectCorruption(DecodeStatus(WireWriter('T').I32(-1).U8(0).bytes()),
                   "pgoutput: negative relation count in Truncate message");
  ExpectCorruption(DecodeStatus(WireWriter('T').I32(0x7FFF'FFFF).U8(0).U32(1).bytes()),
                   "pgoutput: truncated Truncate message (relation count)");
  ExpectCorruption(DecodeStatus(WireWriter('T').I32(1).U8(4).U32(1).bytes()),
                   "pgoutput: unknown options 4 in Truncate message");
  ExpectCorruption(DecodeStatus(WireWriter('M').U8(2).U64(1).String("p").I32(0).bytes()),
                   "pgoutput: unknown flags 2 in Message message");
  ExpectCorruption(DecodeStatus(WireWriter('M').U8(0).U64(1).String("p").I32(-7).bytes()),
                   "pgoutput: negative length of content in Message message");
  ExpectCorruption(DecodeStatus(WireWriter('O').U64(1).Raw("no terminator").bytes()),
                   "pgoutput: truncated Origin message (origin name)");
  ExpectCorruption(DecodeStatus(BeginBytes() + "x"), "pgoutput: Begin message has 1 extra bytes at its end");
}

// Every proper prefix of a valid message is missing something it declared.
TEST(PgOutputDecoderTest, EveryTruncatedPrefixFails) {
  for (const WireMessage& valid : AllValidMessages()) {
    ASSERT_TRUE(DecodeStatus(valid.bytes, valid.in_stream_block).ok()) << valid.bytes;
    for (size_t length = 0; length < valid.bytes.size(); ++length) {
      const Status status = DecodeStatus(valid.bytes.substr(0, length), valid.in_stream_block);
      EXPECT_EQ(status.code(), Status::Code::kCorruption)
          << "message type '" << valid.bytes[0] << "', prefix of " << length << " bytes: " << status.ToString();
    }
  }
}

// No crash and no read outside the input (ASan) for random bytes and for
// valid messages with bytes changed.
TEST(PgOutputDecoderTest, RandomAndDamagedInputDoesNotCrash) {
  std::mt19937_64 random(20'240'506);
  const std::vector<WireMessage> valid = AllValidMessages();
  const std::string types = "BCORYIUDTMSEcA";
  int decoded = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes;
    bool in_stream_block = random() % 2 == 0;
    if (i % 2 == 0) {
      bytes.resize(random() % 48);
      for (char& b : bytes) b = static_cast<char>(random());
      if (!bytes.empty() && random() % 4 != 0) bytes[0] = types[random() % types.size()];
    } else {
      const WireMessage& original = valid[random() % valid.size()];
      bytes = original.bytes;
      in_stream_block = original.in_stream_block;
      for (int changes = 1 + static_cast<int>(random() % 3); changes > 0; --changes) {
        bytes[random() % bytes.size()] = static_cast<char>(random());
      }
    }
    PgOutputDecoder decoder = in_stream_block ? DecoderInStreamBlock() : PgOutputDecoder();
    PgMessage message;
    const ExactCopy copy(bytes);
    if (decoder.Decode(copy.view(), &message).ok()) ++decoded;
  }
  EXPECT_GT(decoded, 0) << "damaged messages that stay valid should decode";

  for (int i = 0; i < 5'000; ++i) {
    std::string bytes(random() % 48, '\0');
    for (char& b : bytes) b = static_cast<char>(random());
    if (!bytes.empty() && random() % 2 == 0) bytes[0] = random() % 2 == 0 ? 'w' : 'k';
    const ExactCopy copy(bytes);
    CopyDataMessage message;
    DecodeCopyData(copy.view(), &message).ok();
  }
}

TEST(CopyDataTest, XLogData) {
  const std::string insert = InsertBytes(std::nullopt);
  const std::string bytes = WireWriter('w').U64(kLsn).U64(kLsn + 100).I64(kCommitTime).Raw(insert).bytes();
  CopyDataMessage message;
  ASSERT_TRUE(DecodeCopyData(bytes, &message).ok());
  const auto& data = std::get<XLogData>(message);
  EXPECT_EQ(data.data_start, kLsn);
  EXPECT_EQ(data.wal_end, kLsn + 100);
  EXPECT_EQ(data.send_time, kCommitTime);
  EXPECT_EQ(data.payload, insert);
  EXPECT_EQ(data.payload.data(), bytes.data() + 25) << "the payload points into the input";

  ASSERT_TRUE(DecodeCopyData(WireWriter('w').U64(1).U64(2).I64(3).bytes(), &message).ok());
  EXPECT_TRUE(std::get<XLogData>(message).payload.empty());
}

TEST(CopyDataTest, PrimaryKeepalive) {
  CopyDataMessage message;
  ASSERT_TRUE(DecodeCopyData(WireWriter('k').U64(kLsn).I64(-5).U8(1).bytes(), &message).ok());
  EXPECT_EQ(std::get<PrimaryKeepalive>(message), (PrimaryKeepalive{kLsn, -5, true}));
  ASSERT_TRUE(DecodeCopyData(WireWriter('k').U64(kLsn).I64(kCommitTime).U8(0).bytes(), &message).ok());
  EXPECT_EQ(std::get<PrimaryKeepalive>(message), (PrimaryKeepalive{kLsn, kCommitTime, false}));
}

TEST(CopyDataTest, MalformedFramesFail) {
  CopyDataMessage message;
  const std::string keepalive = WireWriter('k').U64(kLsn).I64(kCommitTime).U8(0).bytes();
  for (size_t length = 0; length < keepalive.size(); ++length) {
    const ExactCopy copy(keepalive.substr(0, length));
    EXPECT_EQ(DecodeCopyData(copy.view(), &message).code(), Status::Code::kCorruption) << length;
  }
  const std::string xlog_header = WireWriter('w').U64(1).U64(2).I64(3).bytes();
  for (size_t length = 1; length < xlog_header.size(); ++length) {
    const ExactCopy copy(xlog_header.substr(0, length));
    EXPECT_EQ(DecodeCopyData(copy.view(), &message).code(), Status::Code::kCorruption) << length;
  }
  EXPECT_EQ(DecodeCopyData(keepalive.substr(0, 5), &message).message(),
            "replication stream: truncated primary keepalive message (WAL end)");
  EXPECT_EQ(DecodeCopyData(keepalive + "x", &message).message(),
            "replication stream: primary keepalive message has 1 extra bytes at its end");
  EXPECT_EQ(DecodeCopyData("", &message).message(), "replication stream: empty CopyData message");
  const Status unknown = DecodeCopyData("r123", &message);
  EXPECT_EQ(unknown.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(unknown.message(), "replication stream: unknown CopyData message type 'r' (0x72)");
}

TEST(CopyDataTest, StandbyStatusLayout) {
  const std::string expected = WireWriter('r')
                                   .U64(kLsn)
                                   .U64(kLsn - 1)
                                   .U64(kLsn - 2)
                                   .I64(kCommitTime)
                                   .U8(1)
                                   .bytes();
  const std::string encoded = EncodeStandbyStatus(kLsn, kLsn - 1, kLsn - 2, kCommitTime, true);
  EXPECT_EQ(encoded.size(), 34u);
  EXPECT_EQ(encoded, expected);
  EXPECT_EQ(encoded.substr(1, 8), std::string("\x00\x00\x00\x16\xB3\x74\xD8\x48", 8)) << "big-endian";
  EXPECT_EQ(EncodeStandbyStatus(0, 0, 0, -1, false),
            std::string("r") + std::string(24, '\0') + std::string(8, '\xff') + std::string(1, '\0'));
}

TEST(LsnTest, FormatsAsPostgresDoes) {
  EXPECT_EQ(FormatLsn(kLsn), "16/B374D848");
  EXPECT_EQ(FormatLsn(0), "0/0");
  EXPECT_EQ(FormatLsn(0x1'0000'0000), "1/0");
  EXPECT_EQ(FormatLsn(0xA), "0/A");
  EXPECT_EQ(FormatLsn(std::numeric_limits<uint64_t>::max()), "FFFFFFFF/FFFFFFFF");
}

TEST(LsnTest, ParsesWhatItFormats) {
  std::mt19937_64 random(16);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t lsn = i < 4 ? uint64_t{0xFFFF'FFFF} << (i * 16) : random() >> (random() % 64);
    uint64_t parsed = 0;
    ASSERT_TRUE(ParseLsn(FormatLsn(lsn), &parsed).ok()) << FormatLsn(lsn);
    EXPECT_EQ(parsed, lsn);
  }
  uint64_t parsed = 0;
  ASSERT_TRUE(ParseLsn("16/b374d848", &parsed).ok()) << "lower case too";
  EXPECT_EQ(parsed, kLsn);
  ASSERT_TRUE(ParseLsn("00000016/0000000A", &parsed).ok()) << "leading zeros";
  EXPECT_EQ(parsed, 0x16'0000'000Au);
}

TEST(LsnTest, RejectsBadInput) {
  for (const std::string_view bad :
       {"", "/", "16", "16/", "/B374D848", "16/B374D848/", "16//B374D848", "0x16/0", "16/B374D84G", " 16/0", "16/0 ",
        "-1/0", "+1/0", "123456789/0", "0/123456789", "16:B374D848"}) {
    uint64_t parsed = 7;
    const Status status = ParseLsn(bad, &parsed);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_EQ(parsed, 7u) << bad;
  }
  uint64_t parsed = 0;
  EXPECT_EQ(ParseLsn("16/XYZ", &parsed).message(), "invalid LSN \"16/XYZ\": expected hex digits, '/', hex digits");
}

TEST(PgTimestampTest, ConvertsBetweenEpochs) {
  EXPECT_EQ(PgTimestampToUnixMicros(0), 946'684'800'000'000);
  EXPECT_EQ(UnixMicrosToPgTimestamp(946'684'800'000'000), 0);
  // 2024-05-06 07:08:09.123456 UTC.
  EXPECT_EQ(PgTimestampToUnixMicros(kCommitTime), 1'714'979'289'123'456);
  EXPECT_EQ(UnixMicrosToPgTimestamp(1'714'979'289'123'456), kCommitTime);
  EXPECT_EQ(PgTimestampToUnixMicros(-946'684'800'000'000), 0);
}

TEST(PgTimestampTest, InfinityAndOverflowSaturate) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(PgTimestampToUnixMicros(kMax), kMax);
  EXPECT_EQ(PgTimestampToUnixMicros(kMin), kMin);
  EXPECT_EQ(PgTimestampToUnixMicros(kMax - 1), kMax);
  EXPECT_EQ(PgTimestampToUnixMicros(kMin + 1), kMin + 1 + 946'684'800'000'000);
  EXPECT_EQ(UnixMicrosToPgTimestamp(kMax), kMax);
  EXPECT_EQ(UnixMicrosToPgTimestamp(kMin), kMin);
  EXPECT_EQ(UnixMicrosToPgTimestamp(kMin + 1), kMin);
  EXPECT_EQ(UnixMicrosToPgTimestamp(kMax - 1), kMax - 1 - 946'684'800'000'000);
}

}  // namespace
}  // namespace crbridge
