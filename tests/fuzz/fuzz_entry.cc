// Fuzz target: decoding stored entries and printing their payloads, as the verifier, the API
// and audit bundles do with bytes they did not write.
#include <cstdint>
#include <cstring>

#include "api/entry_json.h"
#include "api/event_json.h"
#include "ledger/entry_codec.h"
#include "ledger/events.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fundledger;
  Bytes aligned(data, data + size);  // entries are decoded from aligned memory
  Result<EntryView> e = DecodeEntry(aligned);
  if (!e.ok()) return 0;
  (void)EntryToJson(e->index, aligned);
  if (VerifyPayload(e->event_type, e->payload).ok()) {
    (void)PayloadToJson(e->event_type, e->payload);
    if (IsDomainEvent(e->event_type)) {
      Result<DomainEvent> ev = DecodeEvent(e->event_type, e->payload);
      if (ev.ok()) (void)CheckEventFields(*ev);
    }
  }
  (void)GenesisVerifier(aligned);
  return 0;
}
