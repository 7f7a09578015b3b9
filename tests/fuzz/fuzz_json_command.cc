// Fuzz target: JSON command bodies for every event type (the first byte picks the type).
#include <cstdint>
#include <string>

#include "api/event_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fundledger;
  if (size < 1) return 0;
  auto type = static_cast<fb::EventType>(3 + data[0] % 23);  // FundOpened .. DisclosurePublished
  std::string_view json(reinterpret_cast<const char*>(data + 1), size - 1);
  Result<DomainEvent> event = EventFromJson(type, json);
  if (event.ok()) {
    Bytes payload = EncodeEvent(*event);
    (void)DecodeEvent(type, payload);
  }
  return 0;
}
