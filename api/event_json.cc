#include "api/event_json.h"

#include <flatbuffers/idl.h>

#include <memory>

#include "ledger/entry_codec.h"

namespace fundledger {
namespace {

constexpr size_t kEventJsonBytesMax = 64 << 20;

// One parser per thread, with the schema parsed once; reset before each use.
flatbuffers::Parser& ThreadParser() {
  thread_local std::unique_ptr<flatbuffers::Parser> parser;
  if (!parser) {
    flatbuffers::IDLOptions opts;
    opts.strict_json = true;
    opts.output_default_scalars_in_json = true;
    opts.natural_utf8 = true;
    opts.indent_step = -1;  // compact output
    parser = std::make_unique<flatbuffers::Parser>(opts);
    if (!parser->Parse(EntrySchemaText())) std::abort();  // the embedded schema always parses
  }
  return *parser;
}

}  // namespace

Result<DomainEvent> EventFromJson(fb::EventType type, std::string_view json) {
  if (!IsDomainEvent(type)) return InvalidArgument("not a domain event type");
  if (json.size() > kEventJsonBytesMax) return TooLarge("request body is larger than 64 MiB");
  flatbuffers::Parser& parser = ThreadParser();
  const char* name = fb::EnumNameEventType(type);
  if (!parser.SetRootType(name)) return Internal(std::string("schema has no table ") + name);
  parser.builder_.Clear();
  std::string text(json);  // the parser needs a terminated string
  if (!parser.ParseJson(text.c_str())) {
    std::string error = parser.error_;
    size_t at = error.find("error: ");
    return InvalidArgument("request body is not a valid " + std::string(name) + ": " +
                           (at == std::string::npos ? error : error.substr(at + 7)));
  }
  ByteView payload(parser.builder_.GetBufferPointer(), parser.builder_.GetSize());
  Bytes aligned(payload.begin(), payload.end());  // a fresh vector is suitably aligned
  FL_ASSIGN_OR_RETURN(DomainEvent event, DecodeEvent(type, aligned));
  FL_RETURN_IF_ERROR(CheckEventFields(event));
  return event;
}

Result<std::string> PayloadToJson(fb::EventType type, ByteView payload) {
  flatbuffers::Parser& parser = ThreadParser();
  const char* name = fb::EnumNameEventType(type);
  if (name == nullptr || *name == '\0' || !parser.SetRootType(name)) {
    return InvalidArgument("no JSON view for event type " +
                           std::to_string(static_cast<unsigned>(type)));
  }
  Bytes aligned(payload.begin(), payload.end());
  FL_RETURN_IF_ERROR(VerifyPayload(type, aligned));
  std::string out;
  if (!flatbuffers::GenerateText(parser, aligned.data(), &out))
    return Internal("cannot print the payload as JSON");
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace fundledger
