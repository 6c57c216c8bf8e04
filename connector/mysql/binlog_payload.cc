#include "crbridge/connector/mysql/binlog_payload.h"

#include <zstd.h>

#include <algorithm>

namespace crbridge::mysql {

struct BinlogPayloadEvents::Decoder {
  ~Decoder() { ZSTD_freeDStream(stream); }

  ZSTD_DStream* stream = nullptr;
  BinlogCompression compression = BinlogCompression::kZstd;
  std::string_view input;
  size_t consumed = 0;
  uint64_t uncompressed_size = 0;  // 0: not told
  bool frame_ended = true;         // the last zstd call ended a frame
};

BinlogPayloadEvents::BinlogPayloadEvents() : decoder_(std::make_unique<Decoder>()) {}

BinlogPayloadEvents::~BinlogPayloadEvents() = default;

Status BinlogPayloadEvents::Start(const BinlogTransactionPayload& payload) {
  Decoder& decoder = *decoder_;
  decoder.compression = payload.compression;
  decoder.input = payload.payload;
  decoder.consumed = 0;
  decoder.frame_ended = true;
  decoder.uncompressed_size = payload.uncompressed_size;
  if (payload.compression == BinlogCompression::kZstd) {
    if (decoder.stream == nullptr) decoder.stream = ZSTD_createDStream();
    if (decoder.stream == nullptr) return Status::Internal("binlog: zstd: cannot make a decompression stream");
    ZSTD_DCtx_reset(decoder.stream, ZSTD_reset_session_only);
  }
  has_next_ = false;
  CRBRIDGE_RETURN_IF_ERROR(ReadAhead());
  if (!has_next_) return Status::Corruption("binlog: a TRANSACTION_PAYLOAD event holds no event");
  return Status::OK();
}

Status BinlogPayloadEvents::Next(std::string_view* event, bool* last) {
  if (!has_next_) return Status::Internal("binlog: no event left in the transaction payload");
  current_.swap(next_);
  CRBRIDGE_RETURN_IF_ERROR(ReadAhead());
  *event = current_;
  *last = !has_next_;
  return Status::OK();
}

Status BinlogPayloadEvents::ReadAhead() {
  next_.clear();
  CRBRIDGE_RETURN_IF_ERROR(Decompress(kBinlogEventHeaderSize, &next_));
  if (next_.empty()) {
    // A payload cut short may still end at an event's end.
    if (!decoder_->frame_ended || decoder_->consumed != decoder_->input.size()) {
      return Status::Corruption("binlog: a TRANSACTION_PAYLOAD event ends inside its compressed data");
    }
    has_next_ = false;
    return Status::OK();
  }
  BinlogEventHeader header;
  if (next_.size() < kBinlogEventHeaderSize || !DecodeBinlogEventHeader(next_, &header).ok()) {
    return Status::Corruption("binlog: truncated event in a TRANSACTION_PAYLOAD event");
  }
  const uint64_t largest = decoder_->compression == BinlogCompression::kNone ? decoder_->input.size()
                           : decoder_->uncompressed_size != 0                ? decoder_->uncompressed_size
                                                                             : kMaxEventBytes;
  if (header.event_size < kBinlogEventHeaderSize || header.event_size > std::min<uint64_t>(largest, kMaxEventBytes)) {
    return Status::Corruption("binlog: an event of " + std::to_string(header.event_size) +
                              " bytes in a TRANSACTION_PAYLOAD event");
  }
  if (header.type == BinlogEventType::kTransactionPayload) {
    return Status::Corruption("binlog: a TRANSACTION_PAYLOAD event inside another");
  }
  CRBRIDGE_RETURN_IF_ERROR(Decompress(header.event_size - kBinlogEventHeaderSize, &next_));
  if (next_.size() != header.event_size) {
    return Status::Corruption("binlog: truncated event in a TRANSACTION_PAYLOAD event");
  }
  has_next_ = true;
  return Status::OK();
}

Status BinlogPayloadEvents::Decompress(size_t size, std::string* out) {
  Decoder& decoder = *decoder_;
  const size_t start = out->size();
  if (decoder.compression == BinlogCompression::kNone) {
    const size_t taken = std::min(size, decoder.input.size() - decoder.consumed);
    out->append(decoder.input.substr(decoder.consumed, taken));
    decoder.consumed += taken;
    return Status::OK();
  }
  out->resize(start + size);
  ZSTD_outBuffer output{out->data() + start, size, 0};
  ZSTD_inBuffer input{decoder.input.data(), decoder.input.size(), decoder.consumed};
  while (output.pos < output.size) {
    const size_t before = output.pos;
    const size_t before_input = input.pos;
    const size_t result = ZSTD_decompressStream(decoder.stream, &output, &input);
    if (ZSTD_isError(result)) {
      return Status::Corruption(std::string("binlog: a TRANSACTION_PAYLOAD event does not decompress: ") +
                                ZSTD_getErrorName(result));
    }
    // Nothing more comes out of what is left: the payload's end.
    if (output.pos == before && input.pos == before_input) break;
    decoder.frame_ended = result == 0;
  }
  decoder.consumed = input.pos;
  out->resize(start + output.pos);
  return Status::OK();
}

}  // namespace crbridge::mysql
