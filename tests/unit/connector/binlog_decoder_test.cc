#include <gtest/gtest.h>

#include <random>

#include <zstd.h>

#include "crbridge/connector/mysql/binlog_events.h"
#include "crbridge/connector/mysql/binlog_payload.h"
#include "crbridge/connector/mysql/binlog_rows.h"

namespace crbridge {
using namespace crbridge::mysql;  // the dialect under test
namespace {

// Builds binlog bytes field by field, independently of the decoder.
class BinlogWriter {
 public:
  BinlogWriter& U8(uint64_t value) { return LittleEndian(value, 1); }
  BinlogWriter& U16(uint64_t value) { return LittleEndian(value, 2); }
  BinlogWriter& U32(uint64_t value) { return LittleEndian(value, 4); }
  BinlogWriter& U48(uint64_t value) { return LittleEndian(value, 6); }
  BinlogWriter& U64(uint64_t value) { return LittleEndian(value, 8); }
  BinlogWriter& LittleEndian(uint64_t value, int width) {
    for (int i = 0; i < width; ++i) bytes_.push_back(static_cast<char>((value >> (i * 8)) & 0xff));
    return *this;
  }
  BinlogWriter& LengthEncoded(uint64_t value) {
    if (value < 0xfb) return U8(value);
    if (value <= 0xffff) return U8(0xfc).U16(value);
    if (value <= 0xff'ffff) return U8(0xfd).LittleEndian(value, 3);
    return U8(0xfe).U64(value);
  }
  BinlogWriter& LengthEncodedString(std::string_view text) {
    LengthEncoded(text.size());
    return Raw(text);
  }
  BinlogWriter& Raw(std::string_view raw) {
    bytes_.append(raw);
    return *this;
  }
  // An optional-metadata field of a TABLE_MAP.
  BinlogWriter& Tlv(uint8_t type, std::string_view value) { return U8(type).LengthEncodedString(value); }

  std::string bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// "7f ff 0a" -> the three bytes.
std::string Hex(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return bytes;
}

// CRC-32 (the ISO-HDLC one zlib computes), bit by bit.
uint32_t Crc32(std::string_view bytes) {
  uint32_t crc = 0xffff'ffff;
  for (const char byte : bytes) {
    crc ^= static_cast<uint8_t>(byte);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb8'8320 & (0 - (crc & 1)));
  }
  return ~crc;
}

constexpr uint32_t kTimestamp = 1'715'000'000;
constexpr uint32_t kServerId = 7;
constexpr uint32_t kLogPos = 4'096;
constexpr uint64_t kTableId = 0x0000'8765'4321'0fed;  // uses all 48 bits' range
constexpr uint32_t kUtf8mb4 = 45;

// A whole event: header, body and, with kCrc32, the checksum.
std::string Event(BinlogEventType type, std::string_view body, BinlogChecksum checksum = BinlogChecksum::kCrc32,
                  uint16_t flags = 0) {
  const size_t size = kBinlogEventHeaderSize + body.size() + (checksum == BinlogChecksum::kCrc32 ? 4 : 0);
  std::string event = BinlogWriter()
                          .U32(kTimestamp)
                          .U8(static_cast<uint8_t>(type))
                          .U32(kServerId)
                          .U32(size)
                          .U32(kLogPos)
                          .U16(flags)
                          .Raw(body)
                          .bytes();
  if (checksum == BinlogChecksum::kCrc32) event = BinlogWriter().Raw(event).U32(Crc32(event)).bytes();
  return event;
}

// Post-header lengths as MySQL 8 announces them (40 types), with the sizes
// the decoder reads for TABLE_MAP and ROWS.
std::string PostHeaderLengths() {
  std::string lengths(40, '\0');
  lengths[static_cast<size_t>(BinlogEventType::kTableMap) - 1] = 8;
  for (const auto type : {BinlogEventType::kWriteRowsV1, BinlogEventType::kUpdateRowsV1,
                          BinlogEventType::kDeleteRowsV1}) {
    lengths[static_cast<size_t>(type) - 1] = 8;
  }
  for (const auto type : {BinlogEventType::kWriteRowsV2, BinlogEventType::kUpdateRowsV2,
                          BinlogEventType::kDeleteRowsV2}) {
    lengths[static_cast<size_t>(type) - 1] = 10;
  }
  return lengths;
}

// A FORMAT_DESCRIPTION event always carries the algorithm byte and the 4
// checksum bytes; they hold a CRC only when the algorithm is CRC32.
std::string FormatDescriptionEvent(uint8_t algorithm, const std::string& post_header_lengths = PostHeaderLengths(),
                                   uint16_t binlog_version = 4, uint8_t header_length = 19) {
  std::string server_version = "10.11.6-MariaDB-0+deb12u1";
  server_version.resize(50, '\0');
  const std::string body = BinlogWriter()
                               .U16(binlog_version)
                               .Raw(server_version)
                               .U32(kTimestamp)
                               .U8(header_length)
                               .Raw(post_header_lengths)
                               .U8(algorithm)
                               .bytes();
  if (algorithm == 1) return Event(BinlogEventType::kFormatDescription, body);
  return Event(BinlogEventType::kFormatDescription, body + Hex("de ad be ef"), BinlogChecksum::kOff);
}

BinlogEvent DecodeOk(const std::string& bytes, BinlogChecksum checksum = BinlogChecksum::kCrc32) {
  BinlogEvent event;
  const Status status = DecodeBinlogEvent(bytes, checksum, &event);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return event;
}

template <typename Body>
Body DecodeBody(const std::string& bytes, BinlogChecksum checksum = BinlogChecksum::kCrc32) {
  const BinlogEvent event = DecodeOk(bytes, checksum);
  EXPECT_TRUE(std::holds_alternative<Body>(event.data)) << "variant index " << event.data.index();
  return std::holds_alternative<Body>(event.data) ? std::get<Body>(event.data) : Body{};
}

Status::Code DecodeCode(const std::string& bytes, BinlogChecksum checksum = BinlogChecksum::kCrc32) {
  BinlogEvent event;
  return DecodeBinlogEvent(bytes, checksum, &event).code();
}

// ---- event bodies ----

std::string RotateEvent() {
  return Event(BinlogEventType::kRotate, BinlogWriter().U64(4).Raw("mariadb-bin.000042").bytes(),
               BinlogChecksum::kCrc32, kBinlogEventArtificial);
}
std::string HeartbeatEvent() { return Event(BinlogEventType::kHeartbeat, "mariadb-bin.000042"); }
std::string QueryEvent() {
  return Event(BinlogEventType::kQuery, BinlogWriter()
                                            .U32(42)
                                            .U32(1)
                                            .U8(3)
                                            .U16(0)
                                            .U16(3)
                                            .Raw(Hex("00 01 02"))
                                            .Raw("app")
                                            .U8(0)
                                            .Raw("ALTER TABLE todos ADD COLUMN größe INT")
                                            .bytes());
}
std::string XidEvent() { return Event(BinlogEventType::kXid, BinlogWriter().U64(0xfedc'ba98'7654'3210).bytes()); }
std::string MariaDbGtidEvent() {
  // Without a commit id the body is padded to 19 bytes.
  return Event(BinlogEventType::kMariaDbGtid,
               BinlogWriter().U64(97).U32(0).U8(kMariaDbGtidTransactional).Raw(std::string(6, '\0')).bytes());
}
std::string MariaDbGtidListEvent() {
  return Event(BinlogEventType::kMariaDbGtidList,
               BinlogWriter().U32((1u << 28) | 2).U32(0).U32(1).U64(97).U32(5).U32(2).U64(0xffff'ffff'ffff).bytes());
}
const std::array<uint8_t, 16> kUuid = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                       0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};
std::string MysqlGtidEvent() {
  return Event(BinlogEventType::kMysqlGtid, BinlogWriter()
                                                .U8(1)
                                                .Raw(std::string(kUuid.begin(), kUuid.end()))
                                                .U64(23)
                                                .U8(2)
                                                .U64(11)
                                                .U64(12)
                                                .Raw(Hex("01 02 03 04 05 06 07"))  // commit timestamp
                                                .bytes());
}

TEST(BinlogEventsTest, Header) {
  BinlogEventHeader header;
  ASSERT_TRUE(DecodeBinlogEventHeader(RotateEvent(), &header).ok());
  EXPECT_EQ(header, (BinlogEventHeader{kTimestamp, BinlogEventType::kRotate, kServerId,
                                       static_cast<uint32_t>(RotateEvent().size()), kLogPos,
                                       kBinlogEventArtificial}));
  EXPECT_EQ(DecodeBinlogEventHeader(RotateEvent().substr(0, 18), &header).code(), Status::Code::kCorruption);
}

TEST(BinlogEventsTest, FormatDescriptionWithChecksum) {
  const auto description = DecodeBody<BinlogFormatDescription>(FormatDescriptionEvent(1), BinlogChecksum::kOff);
  EXPECT_EQ(description.binlog_version, 4);
  EXPECT_EQ(description.server_version, "10.11.6-MariaDB-0+deb12u1");
  EXPECT_EQ(description.create_timestamp, kTimestamp);
  EXPECT_EQ(description.post_header_lengths.size(), 40u);
  EXPECT_EQ(description.post_header_lengths[18], 8);
  EXPECT_EQ(description.checksum, BinlogChecksum::kCrc32);
}

TEST(BinlogEventsTest, FormatDescriptionWithoutChecksumIgnoresItsTrailer) {
  const auto description = DecodeBody<BinlogFormatDescription>(FormatDescriptionEvent(0), BinlogChecksum::kCrc32);
  EXPECT_EQ(description.checksum, BinlogChecksum::kOff);
}

TEST(BinlogEventsTest, FormatDescriptionOfUnsupportedServers) {
  std::string other_rows_post_header = PostHeaderLengths();
  other_rows_post_header[static_cast<size_t>(BinlogEventType::kWriteRowsV2) - 1] = 12;
  EXPECT_EQ(DecodeCode(FormatDescriptionEvent(1, PostHeaderLengths(), 3)), Status::Code::kInvalidArgument);
  EXPECT_EQ(DecodeCode(FormatDescriptionEvent(1, PostHeaderLengths(), 4, 13)), Status::Code::kInvalidArgument);
  EXPECT_EQ(DecodeCode(FormatDescriptionEvent(1, other_rows_post_header)), Status::Code::kInvalidArgument);
  EXPECT_EQ(DecodeCode(FormatDescriptionEvent(2), BinlogChecksum::kOff), Status::Code::kInvalidArgument);
}

TEST(BinlogEventsTest, RotateHeartbeatQueryXid) {
  EXPECT_EQ(DecodeBody<BinlogRotate>(RotateEvent()), (BinlogRotate{4, "mariadb-bin.000042"}));
  EXPECT_EQ(DecodeBody<BinlogHeartbeat>(HeartbeatEvent()), BinlogHeartbeat{"mariadb-bin.000042"});
  EXPECT_EQ(DecodeBody<BinlogQuery>(QueryEvent()),
            (BinlogQuery{42, 1, 0, Hex("00 01 02"), "app", "ALTER TABLE todos ADD COLUMN größe INT"}));
  EXPECT_EQ(DecodeBody<BinlogXid>(XidEvent()).xid, 0xfedc'ba98'7654'3210u);
}

TEST(BinlogEventsTest, QueryWithoutDatabase) {
  const std::string event =
      Event(BinlogEventType::kQuery, BinlogWriter().U32(1).U32(0).U8(0).U16(0).U16(0).U8(0).Raw("BEGIN").bytes());
  EXPECT_EQ(DecodeBody<BinlogQuery>(event), (BinlogQuery{1, 0, 0, "", "", "BEGIN"}));
}

TEST(BinlogEventsTest, MariaDbGtid) {
  EXPECT_EQ(DecodeBody<BinlogMariaDbGtid>(MariaDbGtidEvent()),
            (BinlogMariaDbGtid{97, 0, kMariaDbGtidTransactional, std::nullopt, std::nullopt}));

  const std::string with_commit_id = Event(
      BinlogEventType::kMariaDbGtid,
      BinlogWriter().U64(98).U32(3).U8(kMariaDbGtidGroupCommitId | kMariaDbGtidTransactional).U64(555).bytes());
  EXPECT_EQ(DecodeBody<BinlogMariaDbGtid>(with_commit_id),
            (BinlogMariaDbGtid{98, 3, kMariaDbGtidGroupCommitId | kMariaDbGtidTransactional, 555, std::nullopt}));

  const std::string xa = Event(BinlogEventType::kMariaDbGtid, BinlogWriter()
                                                                  .U64(99)
                                                                  .U32(0)
                                                                  .U8(kMariaDbGtidPreparedXa)
                                                                  .U32(1)
                                                                  .U8(3)
                                                                  .U8(2)
                                                                  .Raw("trxbq")
                                                                  .bytes());
  EXPECT_EQ(DecodeBody<BinlogMariaDbGtid>(xa),
            (BinlogMariaDbGtid{99, 0, kMariaDbGtidPreparedXa, std::nullopt, BinlogXaId{1, "trx", "bq"}}));
}

TEST(BinlogEventsTest, MariaDbGtidList) {
  EXPECT_EQ(DecodeBody<BinlogMariaDbGtidList>(MariaDbGtidListEvent()),
            (BinlogMariaDbGtidList{1, {{0, 1, 97}, {5, 2, 0xffff'ffff'ffff}}}));
  const std::string too_many =
      Event(BinlogEventType::kMariaDbGtidList, BinlogWriter().U32(0x0fff'ffff).U32(0).U32(1).U64(97).bytes());
  EXPECT_EQ(DecodeCode(too_many), Status::Code::kCorruption);
}

TEST(BinlogEventsTest, MysqlGtid) {
  const auto gtid = DecodeBody<BinlogMysqlGtid>(MysqlGtidEvent());
  EXPECT_EQ(gtid, (BinlogMysqlGtid{false, 1, kUuid, "", 23, 11, 12}));
  EXPECT_EQ(FormatMysqlGtid(gtid), "3e11fa47-71ca-11e1-9e33-c80aa9429562:23");

  const std::string anonymous =
      Event(BinlogEventType::kMysqlAnonymousGtid, BinlogWriter().U8(0).Raw(std::string(16, '\0')).U64(0).bytes());
  EXPECT_EQ(DecodeBody<BinlogMysqlGtid>(anonymous), (BinlogMysqlGtid{true, 0, {}, "", 0, std::nullopt, std::nullopt}));
}

// A tagged GTID (MySQL 8.3+) is one message of MySQL's serialization
// library. These bytes follow its rules (libs/mysql/serialization): each
// integer says its own size in its first byte's trailing ones, signed ones
// are zigzagged, the uuid is 16 one-byte integers.
TEST(BinlogEventsTest, TaggedMysqlGtid) {
  const std::string body = Hex(
      "02 7e 00"          // format version 1, message size 63, no field a reader must know
      "00 00"             // field 0, flags: 0
      "02 a9 02 95 03 f6 5e 39 02 88 22 b9 03 8d 02 59 03 81 02 6c f1 02 69 03 34 82"  // field 1, the uuid
      "04 10"             // field 2, gno: 4
      "06 10 74 65 73 74 5f 74 61 67"  // field 3, tag: "test_tag"
      "08 0c 0a 10"       // fields 4 and 5, last committed 3, sequence number 4
      "0c 7f 97 ef 0c 25 3f 0b 06 10 d9 04 12 a3 ff 0a");  // timestamp, length, server version: unread
  const auto gtid = DecodeBody<BinlogMysqlGtid>(Event(BinlogEventType::kMysqlTaggedGtid, body));
  EXPECT_EQ(FormatMysqlGtid(gtid), "aae57b2f-8e44-11ee-a3d6-a036bcda1a41:test_tag:4");
  EXPECT_EQ(gtid.last_committed, 3u);
  EXPECT_EQ(gtid.sequence_number, 4u);
  EXPECT_FALSE(gtid.anonymous);

  // A gno of more than 56 bits takes nine bytes; the tag may be empty.
  const std::string large = BinlogWriter()
                                .Raw(Hex("02 40 00 00 00 02"))
                                .Raw(std::string(16, '\0'))
                                .U8(0x04)
                                .U8(0xff)
                                .U64(uint64_t{1} << 61)
                                .Raw(Hex("06 00"))
                                .bytes();
  const auto far = DecodeBody<BinlogMysqlGtid>(Event(BinlogEventType::kMysqlTaggedGtid, large));
  EXPECT_EQ(far.gno, uint64_t{1} << 60);
  EXPECT_EQ(far.tag, "");

  // Without a gno, or of a later format, it is refused.
  EXPECT_EQ(DecodeCode(Event(BinlogEventType::kMysqlTaggedGtid,
                             BinlogWriter().Raw(Hex("02 40 00 00 00 02")).Raw(std::string(16, '\0')).bytes())),
            Status::Code::kCorruption);
  EXPECT_EQ(DecodeCode(Event(BinlogEventType::kMysqlTaggedGtid, Hex("04 10 00 00 00"))), Status::Code::kCorruption);
}

// The length-encoded size of `value` (a payload field's length).
uint64_t LengthEncodedSize(uint64_t value) {
  return value < 0xfb ? 1 : value <= 0xffff ? 3 : value <= 0xff'ffff ? 4 : 9;
}

// A TRANSACTION_PAYLOAD body: its fields (type, length, value), the end
// mark, then `payload`.
std::string PayloadBody(uint64_t compression, uint64_t uncompressed_size, const std::string& payload) {
  BinlogWriter writer;
  writer.LengthEncoded(2).LengthEncoded(LengthEncodedSize(compression)).LengthEncoded(compression);
  writer.LengthEncoded(3).LengthEncoded(LengthEncodedSize(uncompressed_size)).LengthEncoded(uncompressed_size);
  writer.LengthEncoded(1).LengthEncoded(LengthEncodedSize(payload.size())).LengthEncoded(payload.size());
  return writer.U8(0).Raw(payload).bytes();
}

std::string Zstd(const std::string& bytes) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), 3));
  return out;
}

// A transaction's events as MySQL compresses them: no checksums, no
// positions.
std::string CompressedTransaction() {
  return Event(BinlogEventType::kQuery,
               BinlogWriter().U32(42).U32(0).U8(3).U16(0).U16(0).Raw("app").U8(0).Raw("BEGIN").bytes(),
               BinlogChecksum::kOff) +
         Event(BinlogEventType::kXid, BinlogWriter().U64(77).bytes(), BinlogChecksum::kOff);
}

std::vector<BinlogEvent> PayloadEvents(const BinlogTransactionPayload& payload, Status* status) {
  BinlogPayloadEvents events;
  std::vector<BinlogEvent> out;
  *status = events.Start(payload);
  while (status->ok() && events.has_next()) {
    std::string_view bytes;
    bool last = false;
    *status = events.Next(&bytes, &last);
    if (!status->ok()) break;
    BinlogEvent event;
    *status = DecodeBinlogEvent(bytes, BinlogChecksum::kOff, &event);
    out.push_back(event);
    EXPECT_EQ(last, !events.has_next());
  }
  return out;
}

TEST(BinlogEventsTest, TransactionPayload) {
  const std::string events = CompressedTransaction();
  for (const auto& [compression, payload] : {std::pair<uint64_t, std::string>{0, Zstd(events)}, {255, events}}) {
    const std::string event = Event(BinlogEventType::kTransactionPayload, PayloadBody(compression, 960, payload));
    const auto decoded = DecodeBody<BinlogTransactionPayload>(event);
    EXPECT_EQ(decoded.compression, static_cast<BinlogCompression>(compression));
    EXPECT_EQ(decoded.uncompressed_size, 960u);
    EXPECT_EQ(decoded.payload, payload);
    Status status;
    const std::vector<BinlogEvent> inside = PayloadEvents(decoded, &status);
    ASSERT_TRUE(status.ok()) << status.ToString();
    ASSERT_EQ(inside.size(), 2u);
    EXPECT_EQ(std::get<BinlogQuery>(inside[0].data).sql, "BEGIN");
    EXPECT_EQ(std::get<BinlogXid>(inside[1].data).xid, 77u);
  }
  // A payload size other than what follows, another algorithm.
  EXPECT_EQ(DecodeCode(Event(BinlogEventType::kTransactionPayload, PayloadBody(0, 0, events) + "x")),
            Status::Code::kCorruption);
  EXPECT_EQ(DecodeCode(Event(BinlogEventType::kTransactionPayload, PayloadBody(1, 0, events))),
            Status::Code::kInvalidArgument);
}

TEST(BinlogEventsTest, ABrokenTransactionPayloadIsCorruption) {
  const std::string events = CompressedTransaction();
  const std::string compressed = Zstd(events);
  Status status;
  // Cut short, or not zstd at all.
  for (const std::string& payload : {compressed.substr(0, compressed.size() - 6), std::string("not zstd at all")}) {
    PayloadEvents(BinlogTransactionPayload{BinlogCompression::kZstd, 0, payload}, &status);
    EXPECT_EQ(status.code(), Status::Code::kCorruption) << status.ToString();
  }
  // An event size larger than the transaction.
  PayloadEvents(BinlogTransactionPayload{BinlogCompression::kZstd, 20, compressed}, &status);
  EXPECT_EQ(status.code(), Status::Code::kCorruption) << status.ToString();
  // Nothing inside.
  PayloadEvents(BinlogTransactionPayload{BinlogCompression::kNone, 0, ""}, &status);
  EXPECT_EQ(status.code(), Status::Code::kCorruption) << status.ToString();
}

TEST(BinlogEventsTest, XaPrepare) {
  const auto body = [](uint8_t one_phase) {
    return BinlogWriter().U8(one_phase).U32(1).U32(3).U32(2).Raw("trxbq").bytes();
  };
  EXPECT_EQ(DecodeBody<BinlogXaPrepare>(Event(BinlogEventType::kXaPrepare, body(1))), BinlogXaPrepare{true});
  EXPECT_EQ(DecodeBody<BinlogXaPrepare>(Event(BinlogEventType::kXaPrepare, body(0))), BinlogXaPrepare{false});
}

// With binlog_row_value_options=PARTIAL_JSON a JSON update is logged as a
// diff: crbridge would record a row it does not have.
TEST(BinlogEventsTest, PartialUpdateRowsAreRefusedNamingTheSetting) {
  BinlogEvent event;
  const Status s = DecodeBinlogEvent(Event(BinlogEventType::kPartialUpdateRows, Hex("01 00 00 00 00 00 00 00")),
                                     BinlogChecksum::kCrc32, &event);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("binlog_row_value_options=PARTIAL_JSON"), std::string::npos) << s.message();
}

TEST(BinlogEventsTest, UnknownTypesAreSkipped) {
  const std::string annotate_rows = Event(static_cast<BinlogEventType>(160), "INSERT INTO todos VALUES (1)");
  EXPECT_TRUE(std::holds_alternative<BinlogSkippedEvent>(DecodeOk(annotate_rows).data));
}

TEST(BinlogEventsTest, Checksum) {
  // zlib's CRC-32 of the check string, as every CRC-32 catalogue lists it.
  EXPECT_EQ(Crc32("123456789"), 0xcbf4'3926u);
  std::string event = XidEvent();
  EXPECT_EQ(DecodeCode(event), Status::Code::kOk);
  for (size_t i = 0; i < event.size(); ++i) {
    std::string damaged = event;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    EXPECT_EQ(DecodeCode(damaged), Status::Code::kCorruption) << "byte " << i;
  }
  BinlogEvent decoded;
  event.back() = static_cast<char>(event.back() ^ 1);
  const Status status = DecodeBinlogEvent(event, BinlogChecksum::kCrc32, &decoded);
  EXPECT_NE(status.message().find("checksum mismatch in XID event"), std::string::npos) << status.ToString();
  // Without checksums the same bytes are a body with 4 extra bytes.
  EXPECT_EQ(DecodeCode(XidEvent(), BinlogChecksum::kOff), Status::Code::kCorruption);
  EXPECT_EQ(DecodeCode(Event(BinlogEventType::kXid, BinlogWriter().U64(1).bytes(), BinlogChecksum::kOff),
                       BinlogChecksum::kOff),
            Status::Code::kOk);
}

TEST(BinlogEventsTest, SizeMustMatchTheHeader) {
  EXPECT_EQ(DecodeCode(XidEvent() + "x"), Status::Code::kCorruption);
}

// ---- TABLE_MAP ----

struct TestColumn {
  uint8_t type;
  std::string metadata;
};

std::string TableMapBody(const std::vector<TestColumn>& columns, const std::string& nullable,
                         const std::string& optional_metadata, uint64_t table_id = kTableId) {
  BinlogWriter w;
  w.U48(table_id).U16(1).U8(3).Raw("app").U8(0).U8(5).Raw("todos").U8(0).LengthEncoded(columns.size());
  std::string metadata;
  for (const TestColumn& column : columns) {
    w.U8(column.type);
    metadata += column.metadata;
  }
  return w.LengthEncodedString(metadata).Raw(nullable).Raw(optional_metadata).bytes();
}

// id INT UNSIGNED, price DECIMAL(10,2), title VARCHAR(100) utf8mb4, code
// CHAR(255) utf8mb4 (1,020 bytes), uuid BINARY(16), mood ENUM, tags SET,
// created DATETIME(3), amount BIGINT.
std::string RichTableMapEvent() {
  const std::vector<TestColumn> columns = {
      {3, ""},           {246, Hex("0a 02")}, {15, Hex("90 01")},  {254, Hex("ce fc")}, {254, Hex("fe 10")},
      {254, Hex("f7 01")}, {254, Hex("f8 01")}, {18, Hex("03")}, {8, ""},
  };
  const std::string optional_metadata =
      BinlogWriter()
          .Tlv(1, Hex("80"))  // numeric columns id, price, amount: only id unsigned
          .Tlv(2, BinlogWriter().LengthEncoded(kUtf8mb4).LengthEncoded(2).LengthEncoded(63).bytes())
          .Tlv(4, BinlogWriter()
                      .LengthEncodedString("id")
                      .LengthEncodedString("price")
                      .LengthEncodedString("title")
                      .LengthEncodedString("code")
                      .LengthEncodedString("uuid")
                      .LengthEncodedString("mood")
                      .LengthEncodedString("tags")
                      .LengthEncodedString("created")
                      .LengthEncodedString("amount")
                      .bytes())
          .Tlv(5, BinlogWriter().LengthEncoded(2).LengthEncodedString("red").LengthEncodedString("blue").bytes())
          .Tlv(6, BinlogWriter().LengthEncoded(2).LengthEncodedString("happy").LengthEncodedString("sad").bytes())
          .Tlv(10, BinlogWriter().LengthEncoded(kUtf8mb4).bytes())
          .Tlv(12, Hex("ff ff"))  // column visibility: not interpreted
          .Tlv(9, BinlogWriter().LengthEncoded(0).LengthEncoded(0).LengthEncoded(3).LengthEncoded(10).bytes())
          .bytes();
  return Event(BinlogEventType::kTableMap, TableMapBody(columns, Hex("fe 01"), optional_metadata));
}

TEST(BinlogTableMapTest, ColumnsAndOptionalMetadata) {
  const auto table = DecodeBody<BinlogTableMap>(RichTableMapEvent());
  EXPECT_EQ(table.table_id, kTableId);
  EXPECT_EQ(table.flags, 1);
  EXPECT_EQ(table.database, "app");
  EXPECT_EQ(table.table, "todos");
  EXPECT_TRUE(table.has_signedness);
  EXPECT_TRUE(table.has_column_names);
  ASSERT_EQ(table.columns.size(), 9u);
  const std::vector<BinlogColumn>& c = table.columns;

  EXPECT_EQ(c[0].type, MysqlType::kLong);
  EXPECT_EQ(c[0].name, "id");
  EXPECT_TRUE(c[0].is_unsigned);
  EXPECT_FALSE(c[0].nullable);

  EXPECT_EQ(c[1].type, MysqlType::kNewDecimal);
  EXPECT_EQ(c[1].precision, 10);
  EXPECT_EQ(c[1].scale, 2);
  EXPECT_FALSE(c[1].is_unsigned);
  EXPECT_TRUE(c[1].nullable);

  EXPECT_EQ(c[2].type, MysqlType::kVarchar);
  EXPECT_EQ(c[2].max_bytes, 400);
  EXPECT_EQ(c[2].charset, kUtf8mb4);

  EXPECT_EQ(c[3].type, MysqlType::kString);  // the length's bits 8-9 were folded into the type byte
  EXPECT_EQ(c[3].max_bytes, 1020);
  EXPECT_EQ(c[3].charset, kUtf8mb4);

  EXPECT_EQ(c[4].type, MysqlType::kString);
  EXPECT_EQ(c[4].max_bytes, 16);
  EXPECT_EQ(c[4].charset, kMysqlBinaryCharset);  // the default charset's one exception, character column 2

  EXPECT_EQ(c[5].type, MysqlType::kEnum);
  EXPECT_EQ(c[5].pack_length, 1);
  EXPECT_EQ(c[5].enum_or_set_values, (std::vector<std::string>{"happy", "sad"}));
  EXPECT_EQ(c[5].charset, kUtf8mb4);

  EXPECT_EQ(c[6].type, MysqlType::kSet);
  EXPECT_EQ(c[6].enum_or_set_values, (std::vector<std::string>{"red", "blue"}));

  EXPECT_EQ(c[7].type, MysqlType::kDateTime2);
  EXPECT_EQ(c[7].fractional_digits, 3);
  EXPECT_FALSE(c[7].charset.has_value());

  EXPECT_EQ(c[8].type, MysqlType::kLongLong);
  EXPECT_FALSE(c[8].is_unsigned);
  EXPECT_TRUE(c[8].nullable);

  EXPECT_EQ(table.primary_key, (std::vector<BinlogKeyPart>{{0, 0}, {3, 10}}));
}

TEST(BinlogTableMapTest, MinimalTableMap) {
  // INT/DATE/YEAR columns have no metadata: an empty metadata block.
  const std::string event = Event(BinlogEventType::kTableMap,
                                  TableMapBody({{3, ""}, {10, ""}, {13, ""}}, Hex("00"), ""));
  const auto table = DecodeBody<BinlogTableMap>(event);
  ASSERT_EQ(table.columns.size(), 3u);
  EXPECT_EQ(table.columns[1].type, MysqlType::kDate);
  EXPECT_FALSE(table.has_signedness);
  EXPECT_FALSE(table.has_column_names);
  EXPECT_TRUE(table.primary_key.empty());
}

TEST(BinlogTableMapTest, SimplePrimaryKeyAndColumnCharsets) {
  const std::string optional_metadata =
      BinlogWriter()
          .Tlv(8, BinlogWriter().LengthEncoded(1).LengthEncoded(0).bytes())
          .Tlv(3, BinlogWriter().LengthEncoded(63).LengthEncoded(kUtf8mb4).bytes())
          .bytes();
  const std::string event = Event(BinlogEventType::kTableMap,
                                  TableMapBody({{252, Hex("02")}, {3, ""}, {15, Hex("0a 00")}}, Hex("00"),
                                               optional_metadata));
  const auto table = DecodeBody<BinlogTableMap>(event);
  EXPECT_EQ(table.primary_key, (std::vector<BinlogKeyPart>{{1, 0}, {0, 0}}));
  EXPECT_EQ(table.columns[0].charset, kMysqlBinaryCharset);
  EXPECT_EQ(table.columns[0].pack_length, 2);
  EXPECT_FALSE(table.columns[1].charset.has_value());
  EXPECT_EQ(table.columns[2].charset, kUtf8mb4);
}

TEST(BinlogTableMapTest, MalformedTableMaps) {
  const auto code = [](const std::vector<TestColumn>& columns, const std::string& optional_metadata) {
    return DecodeCode(Event(BinlogEventType::kTableMap, TableMapBody(columns, Hex("00"), optional_metadata)));
  };
  EXPECT_EQ(code({{246, Hex("0a 0b")}}, ""), Status::Code::kCorruption);  // scale above precision
  EXPECT_EQ(code({{16, Hex("00 09")}}, ""), Status::Code::kCorruption);   // BIT(72)
  EXPECT_EQ(code({{18, Hex("07")}}, ""), Status::Code::kCorruption);      // DATETIME(7)
  EXPECT_EQ(code({{254, Hex("f7 03")}}, ""), Status::Code::kCorruption);  // ENUM of 3 bytes
  EXPECT_EQ(code({{242, ""}}, ""), Status::Code::kInvalidArgument);        // MySQL 9's VECTOR
  EXPECT_EQ(code({{3, ""}}, BinlogWriter().Tlv(8, BinlogWriter().LengthEncoded(1).bytes()).bytes()),
            Status::Code::kCorruption);  // a key column that does not exist
  EXPECT_EQ(code({{3, ""}}, BinlogWriter().Tlv(4, BinlogWriter().LengthEncodedString("a").LengthEncodedString("b")
                                                          .bytes()).bytes()),
            Status::Code::kCorruption);  // more names than columns
  EXPECT_EQ(code({{3, ""}}, BinlogWriter().Tlv(1, "").bytes()), Status::Code::kCorruption);  // no signedness bits
  // Extra bytes in the metadata block.
  EXPECT_EQ(code({{3, Hex("00")}}, ""), Status::Code::kCorruption);
}

// ---- ROWS ----

// The rows body after the table id, flags and (v2) extra data.
std::string RowsEvent(BinlogEventType type, uint64_t table_id, size_t column_count, const std::string& bitmaps,
                      const std::string& rows, const std::string& extra_data = "") {
  BinlogWriter w;
  w.U48(table_id).U16(kBinlogRowsStatementEnd);
  const auto type_number = static_cast<uint8_t>(type);
  if (type_number >= 30 && type_number <= 32) w.U16(extra_data.size() + 2).Raw(extra_data);
  return Event(type, w.LengthEncoded(column_count).Raw(bitmaps).Raw(rows).bytes());
}

std::vector<BinlogRowChange> DecodeRowsOk(const BinlogTableMap& table, const std::string& event_bytes) {
  const auto rows = DecodeBody<BinlogRowsEvent>(event_bytes);
  std::vector<BinlogRowChange> changes;
  const Status status = DecodeBinlogRows(table, rows, &changes);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return changes;
}

BinlogColumnValue Text(uint32_t column, std::string text) { return {column, BinlogValue(std::move(text))}; }
BinlogColumnValue Integer(uint32_t column, int64_t value) { return {column, BinlogValue(value)}; }
BinlogColumnValue Null(uint32_t column) { return {column, BinlogValue(BinlogNull{})}; }
BinlogColumnValue Bytes(uint32_t column, std::string bytes) { return {column, BinlogValue(BinlogBytes{bytes})}; }

// One row of the rich table: id 7, price 12.50, title "grüße 🙂", code "",
// uuid 0x01 (stripped of its zero bytes), mood sad, tags red,blue,
// created NULL, amount -1.
std::string RichRow(int64_t id) {
  return BinlogWriter()
      .Raw(Hex("80 00"))  // null bitmap over 9 present columns: created
      .U32(static_cast<uint64_t>(id))
      .Raw(Hex("80 00 00 0c 32"))  // DECIMAL(10,2) 12.50
      .U16(std::string("grüße 🙂").size())  // VARCHAR(100) utf8mb4: 2-byte length
      .Raw("grüße 🙂")
      .U16(0)  // CHAR of 1,020 bytes: 2-byte length, empty
      .U8(1)
      .Raw(Hex("01"))
      .U8(2)
      .U8(3)
      .U64(static_cast<uint64_t>(-1))
      .bytes();
}

BinlogRowImage RichImage(int64_t id) {
  return {Integer(0, id),
          Text(1, "12.50"),
          Text(2, "grüße 🙂"),
          Text(3, ""),
          Bytes(4, Hex("01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")),
          Text(5, "sad"),
          Text(6, "red,blue"),
          Null(7),
          Integer(8, -1)};
}

class BinlogRowsTest : public ::testing::Test {
 protected:
  void SetUp() override { table_ = DecodeBody<BinlogTableMap>(RichTableMapEvent()); }
  BinlogTableMap table_;
};

TEST_F(BinlogRowsTest, WriteRowsV1) {
  const std::string event =
      RowsEvent(BinlogEventType::kWriteRowsV1, kTableId, 9, Hex("ff 01"), RichRow(7) + RichRow(4'000'000'000));
  const auto rows = DecodeBody<BinlogRowsEvent>(event);
  EXPECT_EQ(rows.version, 1);
  EXPECT_EQ(rows.kind, BinlogRowsKind::kWrite);
  EXPECT_EQ(rows.table_id, kTableId);
  EXPECT_EQ(rows.flags, kBinlogRowsStatementEnd);
  EXPECT_EQ(rows.column_count, 9u);
  EXPECT_EQ(rows.present_columns, std::vector<bool>(9, true));
  const std::vector<BinlogRowChange> changes = DecodeRowsOk(table_, event);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0], (BinlogRowChange{{}, RichImage(7)}));
  EXPECT_EQ(changes[1], (BinlogRowChange{{}, RichImage(4'000'000'000)}));  // INT UNSIGNED above INT32_MAX
}

TEST_F(BinlogRowsTest, WriteRowsV2WithExtraData) {
  const std::string event = RowsEvent(BinlogEventType::kWriteRowsV2, kTableId, 9, Hex("ff 01"), RichRow(7),
                                      Hex("00 01 02"));  // NDB info TLV
  const auto rows = DecodeBody<BinlogRowsEvent>(event);
  EXPECT_EQ(rows.version, 2);
  EXPECT_EQ(rows.extra_data, Hex("00 01 02"));
  EXPECT_EQ(DecodeRowsOk(table_, event), (std::vector<BinlogRowChange>{{{}, RichImage(7)}}));
  // The extra data length counts its own two bytes.
  EXPECT_EQ(DecodeCode(Event(BinlogEventType::kWriteRowsV2, BinlogWriter().U48(1).U16(0).U16(1).bytes())),
            Status::Code::kCorruption);
}

TEST_F(BinlogRowsTest, UpdateRowsHaveBeforeAndAfterImages) {
  // MINIMAL images: the key in the before image; id and price after.
  const std::string row = BinlogWriter()
                              .Raw(Hex("00"))
                              .U32(7)
                              .Raw(Hex("00"))
                              .U32(8)
                              .Raw(Hex("7f ff ff f3 cd"))  // -12.50
                              .bytes();
  for (const auto type : {BinlogEventType::kUpdateRowsV1, BinlogEventType::kUpdateRowsV2}) {
    const std::string event = RowsEvent(type, kTableId, 9, Hex("01 00 03 00"), row + row);
    const auto rows = DecodeBody<BinlogRowsEvent>(event);
    EXPECT_EQ(rows.kind, BinlogRowsKind::kUpdate);
    EXPECT_EQ(rows.present_columns_after, (std::vector<bool>{true, true, false, false, false, false, false, false,
                                                             false}));
    const BinlogRowChange change{{Integer(0, 7)}, {Integer(0, 8), Text(1, "-12.50")}};
    EXPECT_EQ(DecodeRowsOk(table_, event), (std::vector<BinlogRowChange>{change, change}));
  }
}

TEST_F(BinlogRowsTest, DeleteRowsWithMissingColumnsAndNulls) {
  // id, title, amount present; title and amount NULL.
  const std::string row = BinlogWriter().Raw(Hex("06")).U32(9).bytes();
  for (const auto type : {BinlogEventType::kDeleteRowsV1, BinlogEventType::kDeleteRowsV2}) {
    const std::string event = RowsEvent(type, kTableId, 9, Hex("05 01"), row);
    EXPECT_EQ(DecodeRowsOk(table_, event),
              (std::vector<BinlogRowChange>{{{Integer(0, 9), Null(2), Null(8)}, {}}}));
  }
}

TEST_F(BinlogRowsTest, RowsMustMatchTheTableMap) {
  std::vector<BinlogRowChange> changes;
  const std::string other_table = RowsEvent(BinlogEventType::kWriteRowsV1, kTableId + 1, 9, Hex("ff 01"), "");
  EXPECT_EQ(DecodeBinlogRows(table_, DecodeBody<BinlogRowsEvent>(other_table), &changes).code(),
            Status::Code::kInvalidArgument);
  const std::string fewer_columns = RowsEvent(BinlogEventType::kWriteRowsV1, kTableId, 8, Hex("ff"), "");
  EXPECT_EQ(DecodeBinlogRows(table_, DecodeBody<BinlogRowsEvent>(fewer_columns), &changes).code(),
            Status::Code::kCorruption);
  // Rows without present columns would take no bytes each.
  const std::string nothing_present = RowsEvent(BinlogEventType::kWriteRowsV1, kTableId, 9, Hex("00 00"), "x");
  EXPECT_EQ(DecodeBinlogRows(table_, DecodeBody<BinlogRowsEvent>(nothing_present), &changes).code(),
            Status::Code::kCorruption);
  // A column count beyond MySQL's limit.
  EXPECT_EQ(DecodeCode(RowsEvent(BinlogEventType::kWriteRowsV1, kTableId, 5000, std::string(625, '\xff'), "")),
            Status::Code::kCorruption);
  EXPECT_TRUE(changes.empty());
}

TEST_F(BinlogRowsTest, EveryTruncatedRowIsCorruption) {
  const std::string row = RichRow(7);
  for (size_t length = 1; length < row.size(); ++length) {
    const std::string event =
        RowsEvent(BinlogEventType::kWriteRowsV1, kTableId, 9, Hex("ff 01"), row.substr(0, length));
    std::vector<BinlogRowChange> changes;
    EXPECT_EQ(DecodeBinlogRows(table_, DecodeBody<BinlogRowsEvent>(event), &changes).code(), Status::Code::kCorruption) << "length " << length;
  }
}

// ---- values ----

// A one-column table: the column's wire type and metadata, its optional
// metadata, the value's bytes in a row image and what it decodes to.
struct ValueCase {
  const char* name;
  uint8_t type;
  const char* metadata;  // hex
  std::string optional_metadata;
  const char* value;  // hex
  BinlogValue expected;
};

std::string Unsigned() { return BinlogWriter().Tlv(1, Hex("80")).bytes(); }
std::string Charset(uint32_t charset) { return BinlogWriter().Tlv(2, BinlogWriter().LengthEncoded(charset).bytes()).bytes(); }
std::string Utf8() { return Charset(kUtf8mb4); }
std::string Binary() { return Charset(kMysqlBinaryCharset); }
std::string Values(uint8_t tlv, std::vector<std::string> values) {
  BinlogWriter list;
  list.LengthEncoded(values.size());
  for (const std::string& value : values) list.LengthEncodedString(value);
  return BinlogWriter().Tlv(tlv, list.bytes()).bytes();
}
std::string EnumValues() { return Values(6, {"a", "b", "c"}); }
std::string SetValues() {
  std::vector<std::string> values;
  for (int i = 0; i < 10; ++i) values.push_back("m" + std::to_string(i));
  return Values(5, values);
}
BinlogValue B(const char* hex) { return BinlogBytes{Hex(hex)}; }
BinlogValue T(const char* text) { return std::string(text); }
BinlogValue I(int64_t value) { return value; }

const std::vector<ValueCase>& ValueCases() {
  static const auto* cases = new std::vector<ValueCase>{
      // name                     type metadata  optional metadata  value bytes   expected
      {"TINYINT -1", 1, "", "", "ff", I(-1)},
      {"TINYINT UNSIGNED 255", 1, "", Unsigned(), "ff", I(255)},
      {"SMALLINT min", 2, "", "", "00 80", I(-32768)},
      {"SMALLINT UNSIGNED max", 2, "", Unsigned(), "ff ff", I(65535)},
      {"MEDIUMINT -2", 9, "", "", "fe ff ff", I(-2)},
      {"MEDIUMINT UNSIGNED max", 9, "", Unsigned(), "ff ff ff", I(16777215)},
      {"INT min", 3, "", "", "00 00 00 80", I(INT32_MIN)},
      {"INT 0", 3, "", "", "00 00 00 00", I(0)},
      {"INT UNSIGNED max", 3, "", Unsigned(), "ff ff ff ff", I(4294967295)},
      {"BIGINT min", 8, "", "", "00 00 00 00 00 00 00 80", I(INT64_MIN)},
      {"BIGINT max", 8, "", "", "ff ff ff ff ff ff ff 7f", I(INT64_MAX)},
      {"BIGINT UNSIGNED INT64_MAX", 8, "", Unsigned(), "ff ff ff ff ff ff ff 7f", I(INT64_MAX)},
      {"BIGINT UNSIGNED above int64", 8, "", Unsigned(), "00 00 00 00 00 00 00 80", uint64_t{1} << 63},
      {"BIGINT UNSIGNED max", 8, "", Unsigned(), "ff ff ff ff ff ff ff ff", UINT64_MAX},
      {"YEAR 2024", 13, "", "", "7c", I(2024)},
      {"YEAR 0000", 13, "", "", "00", I(0)},
      {"FLOAT 1.5", 4, "04", "", "00 00 c0 3f", 1.5},
      {"FLOAT max", 4, "04", "", "ff ff 7f 7f", 3.4028234663852886e38},
      {"DOUBLE -2.25", 5, "08", "", "00 00 00 00 00 00 02 c0", -2.25},
      {"DECIMAL(5,2) 0.05", 246, "05 02", "", "80 00 05", T("0.05")},
      {"DECIMAL(5,2) -12.50", 246, "05 02", "", "7f f3 cd", T("-12.50")},
      {"DECIMAL(20,9)", 246, "14 09", "", "81 0d fb 38 d2 07 5b cd 15", T("1234567890.123456789")},
      {"DECIMAL(65,30) max", 246, "41 1e", "",
       "85 f5 e0 ff 3b 9a c9 ff 3b 9a c9 ff 3b 9a c9 ff 3b 9a c9 ff 3b 9a c9 ff 3b 9a c9 ff 03 e7",
       T("99999999999999999999999999999999999.999999999999999999999999999999")},
      {"DECIMAL(10,0) 0", 246, "0a 00", "", "80 00 00 00 00", T("0")},
      {"DECIMAL(3,0) -7", 246, "03 00", "", "7f f8", T("-7")},
      {"DECIMAL(10,9) smallest negative", 246, "0a 09", "", "7f ff ff ff fe", T("-0.000000001")},
      {"DECIMAL(5,0) 99999", 246, "05 00", "", "81 86 9f", T("99999")},
      {"DATE", 10, "", "", "a6 d0 0f", T("2024-05-06")},
      {"DATE zero", 10, "", "", "00 00 00", T("0000-00-00")},
      {"TIME 0", 19, "00", "", "80 00 00", T("00:00:00")},
      {"TIME min", 19, "00", "", "4b 91 05", T("-838:59:59")},
      {"TIME(2) -1.5 s", 19, "02", "", "7f ff fe ce", T("-00:00:01.50")},
      {"TIME(2) -0.01 s", 19, "02", "", "7f ff ff ff", T("-00:00:00.01")},
      {"TIME(2) -01:02:03.45", 19, "02", "", "7f ef 7c d3", T("-01:02:03.45")},
      {"TIME(4) -1.5 s", 19, "04", "", "7f ff fe ec 78", T("-00:00:01.5000")},
      {"TIME(6) negative", 19, "06", "", "7f 37 47 f3 f5 ec", T("-12:34:56.789012")},
      {"TIME(6) max", 19, "06", "", "b4 6e fb 00 00 00", T("838:59:59.000000")},
      {"DATETIME(3)", 18, "03", "", "99 b3 4c 72 09 04 b0", T("2024-05-06 07:08:09.120")},
      {"DATETIME(6) max", 18, "06", "", "fe f3 ff 7e fb 0f 42 3f", T("9999-12-31 23:59:59.999999")},
      {"DATETIME zero", 18, "00", "", "80 00 00 00 00", T("0000-00-00 00:00:00")},
      {"DATETIME min", 18, "00", "", "8c b2 42 00 00", T("1000-01-01 00:00:00")},
      {"TIMESTAMP", 17, "00", "", "66 38 d2 c0", T("2024-05-06 12:53:20")},
      {"TIMESTAMP(6)", 17, "06", "", "66 38 d2 c0 01 e2 40", T("2024-05-06 12:53:20.123456")},
      {"TIMESTAMP(1)", 17, "01", "", "7f ff ff ff 32", T("2038-01-19 03:14:07.5")},
      {"TIMESTAMP zero", 17, "02", "", "00 00 00 00 00", T("0000-00-00 00:00:00.00")},
      {"VARCHAR(10) utf8mb4", 15, "28 00", Utf8(), "03 61 62 63", T("abc")},
      {"VARCHAR empty", 15, "28 00", Utf8(), "00", T("")},
      {"VARCHAR(255) latin1 1-byte length", 15, "ff 00", Charset(8), "01 e9", T("\xe9")},
      {"VARCHAR(256) 2-byte length", 15, "00 01", Utf8(), "02 00 c3 a9", T("é")},
      {"VARBINARY", 15, "10 00", Binary(), "03 00 ff 00", B("00 ff 00")},
      {"VARCHAR without charset", 15, "10 00", "", "01 78", B("78")},
      {"CHAR(10) utf8mb4", 254, "fe 28", Utf8(), "04 f0 9f 99 82", T("🙂")},
      {"CHAR(255) utf8mb4", 254, "ce fc", Utf8(), "03 00 61 62 63", T("abc")},
      {"BINARY(4) padded", 254, "fe 04", Binary(), "02 01 02", B("01 02 00 00")},
      {"BINARY(4) empty", 254, "fe 04", Binary(), "00", B("00 00 00 00")},
      {"ENUM first", 254, "f7 01", EnumValues(), "01", T("a")},
      {"ENUM last", 254, "f7 01", EnumValues(), "03", T("c")},
      {"ENUM invalid", 254, "f7 01", EnumValues(), "00", T("")},
      {"ENUM 2 bytes", 254, "f7 02", EnumValues(), "02 00", T("b")},
      {"SET empty", 254, "f8 02", SetValues(), "00 00", T("")},
      {"SET members", 254, "f8 02", SetValues(), "05 02", T("m0,m2,m9")},
      {"BIT(1)", 16, "01 00", "", "01", B("01")},
      {"BIT(10)", 16, "02 01", "", "03 ff", B("03 ff")},
      {"BIT(64)", 16, "00 08", "", "80 00 00 00 00 00 00 01", B("80 00 00 00 00 00 00 01")},
      {"TINYBLOB", 252, "01", Binary(), "02 00 ff", B("00 ff")},
      {"BLOB empty", 252, "02", Binary(), "00 00", B("")},
      {"MEDIUMTEXT", 252, "03", Utf8(), "02 00 00 c3 a9", T("é")},
      {"LONGTEXT (MariaDB JSON)", 252, "04", Utf8(), "0a 00 00 00 7b 22 61 22 3a 20 31 7d 20 20",
       T("{\"a\": 1}  ")},
      {"MySQL JSON", 245, "04", "", "03 00 00 00 04 01 00", T("true")},
      {"GEOMETRY", 255, "04", Binary(), "02 00 00 00 01 02", B("01 02")},
      {"NULL type", 6, "", "", "", BinlogNull{}},
      {"old TIMESTAMP", 7, "", "", "c0 d2 38 66", T("2024-05-06 12:53:20")},
      {"old DATETIME", 12, "", "", "19 a7 2c 9c 68 12 00 00", T("2024-05-06 07:08:09")},
      {"old TIME negative", 11, "", "", "25 d8 ff", T("-01:02:03")},
  };
  return *cases;
}

std::string OneColumnTableMap(const ValueCase& c) {
  return Event(BinlogEventType::kTableMap,
               TableMapBody({{c.type, Hex(c.metadata)}}, Hex("01"), c.optional_metadata, 1));
}

TEST(BinlogValuesTest, EveryType) {
  for (const ValueCase& c : ValueCases()) {
    SCOPED_TRACE(c.name);
    const auto table = DecodeBody<BinlogTableMap>(OneColumnTableMap(c));
    const std::string row = Hex("00") + Hex(c.value);
    const std::string event = RowsEvent(BinlogEventType::kWriteRowsV1, 1, 1, Hex("01"), row);
    EXPECT_EQ(DecodeRowsOk(table, event), (std::vector<BinlogRowChange>{{{}, {{0, c.expected}}}}));
    // The same column NULL.
    EXPECT_EQ(DecodeRowsOk(table, RowsEvent(BinlogEventType::kWriteRowsV1, 1, 1, Hex("01"), Hex("01"))),
              (std::vector<BinlogRowChange>{{{}, {Null(0)}}}));
    // Every shorter value is truncated.
    const auto rows = DecodeBody<BinlogRowsEvent>(event);
    for (size_t length = 1; length < row.size(); ++length) {
      BinlogRowsEvent truncated = rows;
      truncated.rows = std::string_view(row).substr(0, length);
      std::vector<BinlogRowChange> changes;
      EXPECT_EQ(DecodeBinlogRows(table, truncated, &changes).code(), Status::Code::kCorruption) << length;
    }
  }
}

TEST(BinlogValuesTest, MalformedValues) {
  const auto code = [](uint8_t type, const char* metadata, const std::string& optional_metadata, const char* value) {
    const auto table = DecodeBody<BinlogTableMap>(
        Event(BinlogEventType::kTableMap, TableMapBody({{type, Hex(metadata)}}, Hex("01"), optional_metadata, 1)));
    const std::string event = RowsEvent(BinlogEventType::kWriteRowsV1, 1, 1, Hex("01"), Hex("00") + Hex(value));
    std::vector<BinlogRowChange> changes;
    return DecodeBinlogRows(table, DecodeBody<BinlogRowsEvent>(event), &changes).code();
  };
  EXPECT_EQ(code(246, "05 02", "", "80 03 e8"), Status::Code::kCorruption);        // 1000 in a 3-digit group
  EXPECT_EQ(code(254, "f7 01", EnumValues(), "04"), Status::Code::kCorruption);    // ENUM index past the values
  EXPECT_EQ(code(254, "f8 02", SetValues(), "00 04"), Status::Code::kCorruption);  // SET bit 10 of 10 members
  EXPECT_EQ(code(254, "f7 01", "", "01"), Status::Code::kInvalidArgument);         // ENUM values unknown
  EXPECT_EQ(code(17, "06", "", "00 00 00 00 0f 42 40"), Status::Code::kCorruption);  // a whole second of micros
  EXPECT_EQ(code(141, "10 00", Utf8(), "00"), Status::Code::kInvalidArgument);     // MariaDB compressed VARCHAR
  EXPECT_EQ(code(0, "", "", "00"), Status::Code::kInvalidArgument);                // pre-5.0 DECIMAL
}

// ---- robustness ----

std::vector<std::string> AllValidEvents() {
  std::vector<std::string> events = {
      FormatDescriptionEvent(1), RotateEvent(), HeartbeatEvent(), QueryEvent(), XidEvent(), MariaDbGtidEvent(),
      MariaDbGtidListEvent(), MysqlGtidEvent(), RichTableMapEvent(),
      RowsEvent(BinlogEventType::kWriteRowsV1, kTableId, 9, Hex("ff 01"), RichRow(7)),
      RowsEvent(BinlogEventType::kUpdateRowsV2, kTableId, 9, Hex("ff 01 ff 01"), RichRow(7) + RichRow(8), "ab"),
  };
  for (const ValueCase& c : ValueCases()) events.push_back(OneColumnTableMap(c));
  return events;
}

TEST(BinlogRobustnessTest, EveryPrefixOfAnEventIsCorruption) {
  for (const std::string& event : AllValidEvents()) {
    ASSERT_EQ(DecodeCode(event), Status::Code::kOk);
    for (size_t length = 0; length < event.size(); ++length) {
      EXPECT_EQ(DecodeCode(event.substr(0, length)), Status::Code::kCorruption) << length;
    }
  }
}

// A body cut short and framed again (size and checksum fixed up) decodes or
// is Corruption; nothing crashes or reads outside it (ASan).
TEST(BinlogRobustnessTest, ReframedShortBodiesDecodeOrAreCorruption) {
  for (const std::string& event : AllValidEvents()) {
    BinlogEventHeader header;
    ASSERT_TRUE(DecodeBinlogEventHeader(event, &header).ok());
    if (header.type == BinlogEventType::kFormatDescription) continue;
    const std::string body = event.substr(kBinlogEventHeaderSize, event.size() - kBinlogEventHeaderSize - 4);
    for (size_t length = 0; length < body.size(); ++length) {
      const Status::Code code = DecodeCode(Event(header.type, body.substr(0, length)));
      EXPECT_TRUE(code == Status::Code::kOk || code == Status::Code::kCorruption) << length;
    }
  }
}

TEST(BinlogRobustnessTest, RandomlyDamagedEventsNeverCrash) {
  std::mt19937 random(20240506);
  const BinlogTableMap table = DecodeBody<BinlogTableMap>(RichTableMapEvent());
  for (const std::string& event : AllValidEvents()) {
    BinlogEventHeader header;
    ASSERT_TRUE(DecodeBinlogEventHeader(event, &header).ok());
    std::string body = event.substr(kBinlogEventHeaderSize, event.size() - kBinlogEventHeaderSize - 4);
    if (body.empty()) continue;
    for (int round = 0; round < 300; ++round) {
      std::string damaged = body;
      for (int flips = 1 + static_cast<int>(random() % 3); flips > 0; --flips) {
        damaged[random() % damaged.size()] = static_cast<char>(random());
      }
      BinlogEvent decoded;
      const std::string framed = Event(header.type, damaged);
      if (!DecodeBinlogEvent(framed, BinlogChecksum::kCrc32, &decoded).ok()) continue;
      if (const auto* rows = std::get_if<BinlogRowsEvent>(&decoded.data)) {
        std::vector<BinlogRowChange> changes;
        BinlogRowsEvent same_table = *rows;
        same_table.table_id = table.table_id;
        const Status status = DecodeBinlogRows(table, same_table, &changes);
        EXPECT_NE(status.code(), Status::Code::kInternal);
      }
    }
  }
}

}  // namespace
}  // namespace crbridge
