#include "api/event_json.h"

#include <flatbuffers/idl.h>

#include <boost/json.hpp>
#include <climits>
#include <memory>
#include <vector>

#include "ledger/amount.h"
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

// The body is read twice: here by Boost.JSON, strictly by RFC 8259 (no comments, no trailing
// commas, no hex numbers, nothing after the value, no raw control character or NUL, valid
// UTF-8), then by the FlatBuffers parser, which is lenient about all of those and reads text
// only up to a NUL. Here also, for top-level fields (commands have no nested numbers): a number
// or boolean field must be a JSON number or boolean, never a quoted one ("500"), and an integer
// must fit its field, which the FlatBuffers parser refuses without naming the field. Enum fields
// take their names as strings.
Status CheckJsonTypes(const flatbuffers::StructDef& table, std::string_view json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec) return InvalidArgument("the request body is not JSON (RFC 8259): " + ec.message());
  const boost::json::object* o = v.if_object();
  if (o == nullptr) return InvalidArgument("the request body must be a JSON object");
  for (const flatbuffers::FieldDef* field : table.fields.vec) {
    const boost::json::value* value = o->if_contains(field->name);
    flatbuffers::BaseType type = field->value.type.base_type;
    if (value == nullptr || value->is_null() || !flatbuffers::IsScalar(type) ||
        field->value.type.enum_def != nullptr)
      continue;
    if (flatbuffers::IsBool(type)) {
      if (!value->is_bool())
        return InvalidArgument("'" + field->name + "' must be true or false")
            .WithField(field->name);
      continue;
    }
    if (!value->is_number()) {
      return InvalidArgument("'" + field->name + "' must be a JSON number, not " +
                             (value->is_string() ? "a quoted one" : "another kind of value"))
          .WithField(field->name);
    }
    if (!flatbuffers::IsInteger(type)) continue;
    const int bits = static_cast<int>(flatbuffers::SizeOf(type)) * 8;
    const bool is_unsigned = flatbuffers::IsUnsigned(type);
    // The field's range, as the largest magnitudes the JSON number kinds can hold.
    const uint64_t max = is_unsigned ? (bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1)
                                     : (uint64_t{1} << (bits - 1)) - 1;
    const int64_t min = is_unsigned ? 0 : (bits == 64 ? INT64_MIN : -(int64_t{1} << (bits - 1)));
    bool fits = (value->is_int64() && value->get_int64() >= min &&
                 (value->get_int64() < 0 || static_cast<uint64_t>(value->get_int64()) <= max)) ||
                (value->is_uint64() && value->get_uint64() <= max);
    if (!fits) {
      return InvalidArgument("'" + field->name + "' must be a whole number from " +
                             std::to_string(min) + " to " + std::to_string(max))
          .WithField(field->name);
    }
  }
  return Status::Ok();
}

}  // namespace

namespace {

constexpr std::string_view kFenSuffix = "_fen";
constexpr std::string_view kYuanSuffix = "_yuan";
constexpr int kSchemaDepthMax = 8;  // entry.fbs nests tables three deep

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Rewrites every `<name>_yuan` of `v` (objects at any depth) as `<name>_fen`.
Status FenFromYuan(boost::json::value& v, const std::string& prefix) {
  if (boost::json::array* a = v.if_array()) {
    for (boost::json::value& item : *a) FL_RETURN_IF_ERROR(FenFromYuan(item, prefix));
    return Status::Ok();
  }
  boost::json::object* o = v.if_object();
  if (o == nullptr) return Status::Ok();
  std::vector<std::string> yuan_keys;
  for (auto& [key, value] : *o) {
    if (EndsWith(key, kYuanSuffix)) yuan_keys.emplace_back(key);
    FL_RETURN_IF_ERROR(FenFromYuan(value, prefix + std::string(key) + "."));
  }
  for (const std::string& key : yuan_keys) {
    std::string fen_key = key.substr(0, key.size() - kYuanSuffix.size()) + std::string(kFenSuffix);
    if (o->contains(fen_key)) {
      return InvalidArgument("'" + prefix + fen_key +
                             "' is given twice, in fen and in yuan; give it once")
          .WithField(prefix + key);
    }
    const boost::json::value& text = o->at(key);
    Result<Amount> amount = text.is_string() ? Amount::ParseYuan(text.get_string())
                                             : Result<Amount>(InvalidArgument("not a string"));
    if (!amount.ok()) {
      return InvalidArgument("'" + prefix + key +
                             "' must be yuan as a decimal string with at most two decimals, "
                             "e.g. \"1045.00\"")
          .WithField(prefix + key);
    }
    (*o)[fen_key] = amount->fen();
    o->erase(key);
  }
  return Status::Ok();
}

boost::json::object FieldSchema(const flatbuffers::Type& type, int depth);

boost::json::object TableSchema(const flatbuffers::StructDef& table, int depth) {
  boost::json::object properties;
  for (const flatbuffers::FieldDef* field : table.fields.vec) {
    if (field->deprecated || field->value.type.base_type == flatbuffers::BASE_TYPE_UTYPE) continue;
    properties[field->name] = FieldSchema(field->value.type, depth + 1);
    if (EndsWith(field->name, kFenSuffix)) {
      std::string yuan =
          field->name.substr(0, field->name.size() - kFenSuffix.size()) + std::string(kYuanSuffix);
      properties[yuan] = boost::json::object{
          {"type", "string"},
          {"pattern", "^[0-9]+(\\.[0-9]{1,2})?$"},
          {"description", "the same amount in yuan (\"1045.00\"), instead of " + field->name}};
    }
  }
  return boost::json::object{
      {"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
}

boost::json::object FieldSchema(const flatbuffers::Type& type, int depth) {
  using flatbuffers::BaseType;
  if (type.enum_def != nullptr && type.base_type != flatbuffers::BASE_TYPE_VECTOR) {
    boost::json::array names;
    for (const flatbuffers::EnumVal* v : type.enum_def->Vals()) names.emplace_back(v->name);
    return boost::json::object{{"type", "string"}, {"enum", std::move(names)}};
  }
  switch (type.base_type) {
    case flatbuffers::BASE_TYPE_BOOL:
      return boost::json::object{{"type", "boolean"}};
    case flatbuffers::BASE_TYPE_FLOAT:
    case flatbuffers::BASE_TYPE_DOUBLE:
      return boost::json::object{{"type", "number"}};
    case flatbuffers::BASE_TYPE_STRING:
      return boost::json::object{{"type", "string"}};
    case flatbuffers::BASE_TYPE_VECTOR:
      return boost::json::object{{"type", "array"},
                                 {"items", FieldSchema(type.VectorType(), depth + 1)}};
    case flatbuffers::BASE_TYPE_STRUCT:
      if (depth < kSchemaDepthMax && type.struct_def != nullptr)
        return TableSchema(*type.struct_def, depth);
      return boost::json::object{{"type", "object"}};
    default:
      if (flatbuffers::IsInteger(type.base_type))
        return boost::json::object{{"type", "integer"}, {"format", "int64"}};
      return boost::json::object{};
  }
}

}  // namespace

std::string EventJsonSchema(fb::EventType type) {
  flatbuffers::Parser& parser = ThreadParser();
  const char* name = fb::EnumNameEventType(type);
  if (name == nullptr || *name == '\0' || !parser.SetRootType(name)) return R"({"type":"object"})";
  return boost::json::serialize(TableSchema(*parser.root_struct_def_, 0));
}

Result<DomainEvent> EventFromJson(fb::EventType type, std::string_view json_text) {
  std::string rewritten;
  if (json_text.find(kYuanSuffix) != std::string_view::npos) {  // amounts given in yuan
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(json_text, ec);
    if (!ec) {
      FL_RETURN_IF_ERROR(FenFromYuan(v, ""));
      rewritten = boost::json::serialize(v);
      json_text = rewritten;
    }
  }
  std::string_view json = json_text;
  if (!IsDomainEvent(type)) return InvalidArgument("not a domain event type");
  if (json.size() > kEventJsonBytesMax) return TooLarge("request body is larger than 64 MiB");
  flatbuffers::Parser& parser = ThreadParser();
  const char* name = fb::EnumNameEventType(type);
  if (!parser.SetRootType(name)) return Internal(std::string("schema has no table ") + name);
  FL_RETURN_IF_ERROR(CheckJsonTypes(*parser.root_struct_def_, json));
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
