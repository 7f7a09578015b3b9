// JSON <-> event payloads, through FlatBuffers' own schema parser over ledger/entry.fbs.
//
// A request body for an event is a JSON object with the fields of that event's table, named
// as in the schema ("fund_id", "amount_fen", enum values by name: "kind": "charity"). Unknown
// fields are rejected, types are checked by the parser, and CheckEventFields then checks the
// content and names the field. Every money field `<name>_fen` (integer fen) may be given instead
// as `<name>_yuan`, a decimal string ("1045.00", Amount::ParseYuan), at any depth; giving one
// field both ways is an error naming it. The same parser prints any payload as JSON, so the API's
// and the CLI's views of entries never lag behind the schema.
//
//   Result<DomainEvent> e = EventFromJson(fb::EventType::Appropriated, R"({"fund_id": ...})");
//   Result<std::string> j = PayloadToJson(fb::EventType::Memo, payload_bytes);
//
// Thread-safe: each thread keeps its own parser.
#pragma once

#include <string>
#include <string_view>

#include "ledger/events.h"

namespace fundledger {

const char* EntrySchemaText();

// Parses one event's JSON and checks its fields. Errors are invalid_argument with the field.
Result<DomainEvent> EventFromJson(fb::EventType type, std::string_view json);
// The JSON Schema of a request body for `type` (OpenAPI 3.0's dialect), from the schema itself:
// each field with its type, enums by their names, nested tables, and `<name>_yuan` beside
// every `<name>_fen`.
std::string EventJsonSchema(fb::EventType type);
// The payload of an entry as a JSON object (compact, UTF-8 text as is).
Result<std::string> PayloadToJson(fb::EventType type, ByteView payload);

}  // namespace fundledger
