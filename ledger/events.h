// Domain events: the typed payloads of entry.fbs as C++ values.
//
// Each event is the FlatBuffers object-API struct of its table (fb::FundOpenedT, ...), held in
// the DomainEvent variant. EncodeEvent packs one into payload bytes; DecodeEvent verifies and
// unpacks payload bytes; CheckEventFields checks everything that does not depend on ledger
// state (formats, ranges, enums within the schema's values, required fields) and names the
// field at fault.
//
//   fb::AppropriatedT a;  a.fund_id = "F1"; a.bucket = "general"; a.amount_fen = 100000; ...
//   NewEntry e{"clerk.li", fb::Role::maker, EventTypeOf(DomainEvent(a)), EncodeEvent(a)};
#pragma once

#include <string_view>
#include <variant>

#include "crypto/encoding.h"
#include "ledger/amount.h"
#include "ledger/entry_generated.h"

namespace fundledger {

// clang-format off
#define FL_DOMAIN_EVENTS(X)                                                                   \
  X(FundOpened) X(FundClosed) X(ProgramDefined) X(ProgramStandardChanged)                     \
  X(BeneficiaryRegistered) X(BeneficiaryChanged) X(Enrolled) X(EnrollmentChanged)             \
  X(Appropriated) X(DonationReceived) X(LotteryGrantAwarded) X(DisbursementBatchPrepared)     \
  X(DisbursementBatchApproved) X(DisbursementBatchRejected) X(PaymentReturned)                \
  X(PaymentReissued) X(Recovered) X(Reversal) X(Expensed) X(TransferredBetweenFunds)          \
  X(RestrictionReleased) X(Erased) X(DisclosurePublished)
// clang-format on

// std::monostate first: a default-constructed DomainEvent is "no event", never an empty one.
#define FL_EVENT_ALTERNATIVE(name) , fb::name##T
using DomainEvent = std::variant<std::monostate FL_DOMAIN_EVENTS(FL_EVENT_ALTERNATIVE)>;
#undef FL_EVENT_ALTERNATIVE

// Limits on one event's fields.
inline constexpr size_t kIdBytesMax = 64;
inline constexpr size_t kTextBytesMax = 256;
inline constexpr size_t kListItemsMax = 256;
inline constexpr size_t kBatchChunkLinesMax = 2'000;         // lines in one chunk entry
inline constexpr size_t kBatchChunkBytesMax = 56'000;        // estimated payload bytes of one chunk
inline constexpr size_t kBatchLinesMax = 1'000'000;          // lines in one disbursement batch
inline constexpr int64_t kAmountFenMax = 1'000'000'000'000;  // 10 billion yuan in one movement
inline constexpr int32_t kPaymentsMax = 120;                 // a one-off program's limit
inline constexpr int32_t kPaymentsWindowMonthsMax = 120;     // and the months it counts over
inline constexpr std::string_view kGeneralBucket = "general";

fb::EventType EventTypeOf(const DomainEvent& event);
bool IsDomainEvent(fb::EventType type);
Bytes EncodeEvent(const DomainEvent& event);
Result<DomainEvent> DecodeEvent(fb::EventType type, ByteView payload);
// DecodeEvent without the verifier, for a payload that passed VerifyDomainPayload (as
// verification checks every entry's payload) and has not changed since.
// REQUIRES: IsDomainEvent(type) and VerifyDomainPayload(type, payload) succeeded.
DomainEvent DecodeVerifiedEvent(fb::EventType type, ByteView payload);
// The FlatBuffers verifier over a domain payload, and its enum fields against the schema's
// values (what the log checks before accepting it, and what verification and replay check).
Status VerifyDomainPayload(fb::EventType type, ByteView payload);
Status CheckEventFields(const DomainEvent& event);

// Formats shared by events, the API and the CLI.
bool IsValidId(std::string_view id);
bool IsValidMonth(int32_t yyyymm);
bool IsValidDate(int32_t yyyymmdd);
bool IsValidRegionCode(std::string_view code);
int32_t MonthIndex(int32_t yyyymm);  // months since year 0: a number to add and compare
int32_t MonthFromIndex(int32_t index);
int32_t FirstDayOf(int32_t yyyymm);  // 202503 -> 20250301
// Completed years on `date` of one born on `birth_date` (yyyymmdd): N from the Nth birthday on
// (29 February: 1 March in common years).
int32_t AgeOn(int32_t birth_date, int32_t date);
Result<int32_t> ParseMonth(std::string_view text);  // "2025-03"
Result<int32_t> ParseDate(std::string_view text);   // "2025-03-01"
std::string FormatMonth(int32_t yyyymm);            // "2025-03"
std::string FormatDate(int32_t yyyymmdd);           // "2025-03-01"
std::string FormatFen(int64_t fen);                 // "1045.00"
Result<int64_t> ParseYuan(std::string_view text);   // "1045.5" -> 104550 fen, exact

}  // namespace fundledger
