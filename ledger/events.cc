#include "ledger/events.h"

#include <flatbuffers/flatbuffers.h>

#include <cassert>
#include <charconv>
#include <cstdio>

namespace fundledger {
namespace {

template <typename T>
struct EventTag;
#define FL_EVENT_TAG(name)                                      \
  template <>                                                   \
  struct EventTag<fb::name##T> {                                \
    static constexpr fb::EventType kType = fb::EventType::name; \
  };
FL_DOMAIN_EVENTS(FL_EVENT_TAG)
#undef FL_EVENT_TAG

template <typename Table>
bool VerifyPayload(ByteView bytes) {
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), 64, 4'000'000);
  return verifier.VerifyBuffer<Table>(nullptr);
}

// Field checks: each returns a Status naming the field.
Status Bad(std::string field, std::string message) {
  return InvalidArgument(field + " " + message).WithField(std::move(field));
}

Status Id(const std::string& v, const char* field) {
  if (!IsValidId(v))
    return Bad(field,
               "must be 1..64 characters of A-Z a-z 0-9 . _ : -, got '" + v.substr(0, 80) + "'");
  return Status::Ok();
}
Status OptionalId(const std::string& v, const char* field) {
  return v.empty() ? Status::Ok() : Id(v, field);
}
Status Text(const std::string& v, const char* field, bool required) {
  if (required && v.empty()) return Bad(field, "is required");
  if (v.size() > kTextBytesMax) return Bad(field, "is longer than 256 bytes");
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20) return Bad(field, "has a control character");
  }
  return Status::Ok();
}
Status PositiveAmount(int64_t v, const char* field) {
  if (v <= 0) return Bad(field, "must be a positive amount in fen, got " + std::to_string(v));
  if (v > kAmountFenMax) return Bad(field, "is larger than 10,000,000,000 yuan");
  return Status::Ok();
}
Status Month(int32_t v, const char* field) {
  if (!IsValidMonth(v)) return Bad(field, "must be a month yyyymm, got " + std::to_string(v));
  return Status::Ok();
}
Status Date(int32_t v, const char* field) {
  if (!IsValidDate(v)) return Bad(field, "must be a date yyyymmdd, got " + std::to_string(v));
  return Status::Ok();
}
Status OptionalDate(int32_t v, const char* field) {  // 0: not recorded (entry.fbs)
  return v == 0 ? Status::Ok() : Date(v, field);
}
Status IdList(const std::vector<std::string>& v, const char* field) {
  if (v.size() > kListItemsMax) return Bad(field, "has more than 256 items");
  for (const std::string& id : v) FL_RETURN_IF_ERROR(Id(id, field));
  return Status::Ok();
}
Status Token(const std::vector<uint8_t>& v, const char* field, bool required) {
  if (v.empty() && !required) return Status::Ok();
  if (v.size() != 32) return Bad(field, "must be a 32-byte keyed commitment");
  return Status::Ok();
}

// FlatBuffers stores an enum as any number of its underlying type: each enum field is checked
// against its schema's values (the generated EnumValues/EnumNames), never a hand-kept list.
template <typename E, size_t N>
Status SchemaEnum(E v, const E (&values)[N], const char* const* names, const char* field) {
  std::string known;
  for (size_t i = 0; i < N; ++i) {
    if (values[i] == v) return Status::Ok();
    known += (i == 0 ? "" : ", ") +
             std::string(names[static_cast<size_t>(values[i]) - static_cast<size_t>(values[0])]);
  }
  return Bad(field,
             "must be one of " + known + ", got " + std::to_string(static_cast<unsigned>(v)));
}

// Every enum field of every domain event: (event, field member, field name, enum type).
// clang-format off
#define FL_EVENT_ENUM_FIELDS(X)                                                               \
  X(FundOpened, kind, "kind", FundKind)                                                       \
  X(ProgramDefined, category, "category", ProgramCategory)                                    \
  X(ProgramDefined, period, "period", PaymentPeriod)                                          \
  X(BeneficiaryRegistered, payee_role, "payee_role", PayeeRole)                               \
  X(BeneficiaryChanged, status, "status", BeneficiaryStatus)                                  \
  X(Expensed, class_, "class", ExpenseClass)
// clang-format on

// The enum fields of an event, given as its object-API struct (fb::FundOpenedT) or as its
// verified table (fb::FundOpened).
template <typename T>
Status CheckEnums(const T& e) {
#define FL_ENUM_CHECK(event, member, name, type)                                                   \
  if constexpr (std::is_same_v<T, fb::event##T>) {                                                 \
    FL_RETURN_IF_ERROR(SchemaEnum(e.member, fb::EnumValues##type(), fb::EnumNames##type(), name)); \
  } else if constexpr (std::is_same_v<T, fb::event>) {                                             \
    FL_RETURN_IF_ERROR(                                                                            \
        SchemaEnum(e.member(), fb::EnumValues##type(), fb::EnumNames##type(), name));              \
  }
  FL_EVENT_ENUM_FIELDS(FL_ENUM_CHECK)
#undef FL_ENUM_CHECK
  return Status::Ok();
}

#define FL_CHECK(expr) FL_RETURN_IF_ERROR(expr)

Status Check(const fb::FundOpenedT& e) {
  FL_CHECK(Id(e.fund_id, "fund_id"));
  FL_CHECK(Text(e.name, "name", true));
  FL_CHECK(Id(e.organisation, "organisation"));
  if (e.currency != "CNY") return Bad("currency", "must be CNY");
  FL_CHECK(IdList(e.programs, "programs"));
  FL_CHECK(IdList(e.purposes, "purposes"));
  if (e.kind == fb::FundKind::lottery_welfare && e.purposes.empty()) {
    return Bad("purposes", "of a lottery_welfare fund must list its approved categories");
  }
  return Text(e.bank_account_token, "bank_account_token", false);
}
Status Check(const fb::FundClosedT& e) {
  FL_CHECK(Id(e.fund_id, "fund_id"));
  return Text(e.reason, "reason", true);
}
Status Check(const fb::ProgramDefinedT& e) {
  FL_CHECK(Id(e.program_id, "program_id"));
  FL_CHECK(Text(e.name, "name", true));
  FL_CHECK(PositiveAmount(e.standard_fen, "standard_fen"));
  FL_CHECK(PositiveAmount(e.cap_fen, "cap_fen"));
  if (e.cap_fen < e.standard_fen) return Bad("cap_fen", "must be at least the standard");
  FL_CHECK(Month(e.effective_month, "effective_month"));
  FL_CHECK(IdList(e.excludes, "excludes"));
  if (e.age_min_years < 0 || e.age_min_years > 150) return Bad("age_min_years", "must be 0..150");
  if (e.age_max_years < 0 || e.age_max_years > 150) return Bad("age_max_years", "must be 0..150");
  if (e.age_max_years != 0 && e.age_max_years <= e.age_min_years)
    return Bad("age_max_years", "must be above age_min_years (the band is [min, max))");
  if (e.payments_max < 0 || e.payments_max > kPaymentsMax)
    return Bad("payments_max", "must be 0..120");
  if (e.payments_window_months < 0 || e.payments_window_months > kPaymentsWindowMonthsMax)
    return Bad("payments_window_months", "must be 0..120");
  return Status::Ok();
}
Status Check(const fb::ProgramStandardChangedT& e) {
  FL_CHECK(Id(e.program_id, "program_id"));
  FL_CHECK(PositiveAmount(e.standard_fen, "standard_fen"));
  FL_CHECK(PositiveAmount(e.cap_fen, "cap_fen"));
  if (e.cap_fen < e.standard_fen) return Bad("cap_fen", "must be at least the standard");
  FL_CHECK(Month(e.effective_month, "effective_month"));
  return Text(e.document, "document", true);
}
Status Check(const fb::BeneficiaryRegisteredT& e) {
  FL_CHECK(Id(e.beneficiary_id, "beneficiary_id"));
  FL_CHECK(Id(e.household_id, "household_id"));
  if (!IsValidRegionCode(e.region_code))
    return Bad("region_code", "must be a 6-digit division code");
  FL_CHECK(Token(e.id_commitment, "id_commitment", true));
  FL_CHECK(Month(e.birth_month, "birth_month"));
  FL_CHECK(Token(e.bank_account_token, "bank_account_token", false));
  if (e.birth_date != 0) {
    FL_CHECK(Date(e.birth_date, "birth_date"));
    if (e.birth_date / 100 != e.birth_month)
      return Bad("birth_month", "differs from the month of birth_date");
  }
  return Date(e.registered_date, "registered_date");
}
Status Check(const fb::BeneficiaryChangedT& e) {
  FL_CHECK(Id(e.beneficiary_id, "beneficiary_id"));
  FL_CHECK(Date(e.effective_date, "effective_date"));
  if (!e.region_code.empty() && !IsValidRegionCode(e.region_code))
    return Bad("region_code", "must be a 6-digit division code");
  FL_CHECK(OptionalId(e.household_id, "household_id"));
  FL_CHECK(Token(e.bank_account_token, "bank_account_token", false));
  return Text(e.reason, "reason", true);
}
template <typename T>
Status CheckEnrollment(const T& e) {
  FL_CHECK(Id(e.beneficiary_id, "beneficiary_id"));
  FL_CHECK(Id(e.program_id, "program_id"));
  FL_CHECK(PositiveAmount(e.monthly_amount_fen, "monthly_amount_fen"));
  FL_CHECK(Month(e.from_month, "from_month"));
  if (e.to_month != 0) {
    FL_CHECK(Month(e.to_month, "to_month"));
    if (e.to_month < e.from_month) return Bad("to_month", "is before from_month");
  }
  if (e.age_extension_to_month != 0) {
    FL_CHECK(Month(e.age_extension_to_month, "age_extension_to_month"));
    FL_CHECK(Text(e.age_extension_doc, "age_extension_doc", true));
  } else if (!e.age_extension_doc.empty()) {
    return Bad("age_extension_doc", "needs an age_extension_to_month");
  }
  return Text(e.approval_doc, "approval_doc", true);
}
Status Check(const fb::EnrolledT& e) { return CheckEnrollment(e); }
Status Check(const fb::EnrollmentChangedT& e) { return CheckEnrollment(e); }
Status Check(const fb::AppropriatedT& e) {
  FL_CHECK(Id(e.fund_id, "fund_id"));
  FL_CHECK(Id(e.bucket, "bucket"));
  FL_CHECK(PositiveAmount(e.amount_fen, "amount_fen"));
  FL_CHECK(Id(e.source, "source"));
  FL_CHECK(OptionalDate(e.value_date, "value_date"));
  return Text(e.document, "document", true);
}
Status Check(const fb::DonationReceivedT& e) {
  FL_CHECK(Id(e.fund_id, "fund_id"));
  FL_CHECK(Id(e.bucket, "bucket"));
  FL_CHECK(OptionalId(e.donor_id, "donor_id"));
  FL_CHECK(PositiveAmount(e.amount_fen, "amount_fen"));
  FL_CHECK(Text(e.receipt_no, "receipt_no", true));
  FL_CHECK(Text(e.valuation_doc, "valuation_doc", e.in_kind));
  FL_CHECK(OptionalDate(e.receipt_date, "receipt_date"));
  return Text(e.document, "document", false);
}
Status Check(const fb::LotteryGrantAwardedT& e) {
  FL_CHECK(Id(e.from_fund_id, "from_fund_id"));
  FL_CHECK(Id(e.from_bucket, "from_bucket"));
  FL_CHECK(Id(e.to_fund_id, "to_fund_id"));
  FL_CHECK(Id(e.project_id, "project_id"));
  FL_CHECK(Id(e.category, "category"));
  FL_CHECK(PositiveAmount(e.amount_fen, "amount_fen"));
  FL_CHECK(OptionalDate(e.value_date, "value_date"));
  return Text(e.document, "document", true);
}
Status Check(const fb::DisbursementBatchPreparedT& e) {
  FL_CHECK(Id(e.batch_id, "batch_id"));
  FL_CHECK(Id(e.fund_id, "fund_id"));
  FL_CHECK(Id(e.bucket, "bucket"));
  FL_CHECK(Month(e.period, "period"));
  FL_CHECK(Text(e.document, "document", false));
  if (e.chunks == 0 || e.chunk >= e.chunks) return Bad("chunk", "must be below chunks");
  if (e.lines.empty()) return Bad("lines", "must not be empty");
  if (e.lines.size() > kBatchChunkLinesMax)
    return Bad("lines", "has more than 2,000 lines in one chunk");
  for (const std::string& id : e.beneficiary_ids) FL_CHECK(Id(id, "beneficiary_id"));
  for (const std::string& id : e.program_ids) FL_CHECK(Id(id, "program_id"));
  for (const fb::DisbursementLine& l : e.lines) {
    auto at = [&](Status s) { return s.WithLine(l.line_no()); };
    if (l.line_no() == 0) return at(Bad("line_no", "must be 1 or more"));
    if (l.beneficiary() >= e.beneficiary_ids.size())
      return at(Bad("beneficiary_id", "index is out of range"));
    if (l.program() >= e.program_ids.size()) return at(Bad("program_id", "index is out of range"));
    Status s = Month(l.period(), "period");
    if (!s.ok()) return at(s);
    s = PositiveAmount(l.amount_fen(), "amount_fen");
    if (!s.ok()) return at(s);
  }
  return Status::Ok();
}
Status Check(const fb::DisbursementBatchApprovedT& e) {
  FL_CHECK(Id(e.batch_id, "batch_id"));
  return Text(e.document, "document", false);
}
Status Check(const fb::DisbursementBatchRejectedT& e) {
  FL_CHECK(Id(e.batch_id, "batch_id"));
  return Text(e.reason, "reason", true);
}
Status Check(const fb::PaymentReturnedT& e) {
  FL_CHECK(Id(e.batch_id, "batch_id"));
  if (e.line_no == 0) return Bad("line_no", "must be 1 or more");
  FL_CHECK(Text(e.reason, "reason", true));
  return Text(e.bank_ref, "bank_ref", false);
}
Status Check(const fb::PaymentReissuedT& e) {
  FL_CHECK(Id(e.batch_id, "batch_id"));
  if (e.line_no == 0) return Bad("line_no", "must be 1 or more");
  return Text(e.document, "document", false);
}
Status Check(const fb::RecoveredT& e) {
  FL_CHECK(Id(e.beneficiary_id, "beneficiary_id"));
  FL_CHECK(Id(e.fund_id, "fund_id"));
  FL_CHECK(Id(e.bucket, "bucket"));
  FL_CHECK(PositiveAmount(e.amount_fen, "amount_fen"));
  FL_CHECK(Text(e.cause, "cause", true));
  FL_CHECK(OptionalId(e.batch_id, "batch_id"));
  FL_CHECK(OptionalDate(e.value_date, "value_date"));
  return Text(e.document, "document", true);
}
Status Check(const fb::ReversalT& e) {
  if (e.entry_index == 0) return Bad("entry_index", "cannot name the genesis entry");
  return Text(e.reason, "reason", true);
}
Status Check(const fb::ExpensedT& e) {
  FL_CHECK(Id(e.fund_id, "fund_id"));
  FL_CHECK(Id(e.bucket, "bucket"));
  FL_CHECK(Text(e.payee, "payee", true));
  FL_CHECK(Id(e.purpose, "purpose"));
  FL_CHECK(PositiveAmount(e.amount_fen, "amount_fen"));
  FL_CHECK(OptionalDate(e.value_date, "value_date"));
  return Text(e.document, "document", true);
}
Status Check(const fb::TransferredBetweenFundsT& e) {
  FL_CHECK(Id(e.from_fund_id, "from_fund_id"));
  FL_CHECK(Id(e.from_bucket, "from_bucket"));
  FL_CHECK(Id(e.to_fund_id, "to_fund_id"));
  FL_CHECK(Id(e.to_bucket, "to_bucket"));
  if (e.from_fund_id == e.to_fund_id)
    return Bad("to_fund_id",
               "must differ from from_fund_id (use a restriction release within a fund)");
  FL_CHECK(PositiveAmount(e.amount_fen, "amount_fen"));
  FL_CHECK(OptionalDate(e.value_date, "value_date"));
  return Text(e.document, "document", true);
}
Status Check(const fb::RestrictionReleasedT& e) {
  FL_CHECK(Id(e.fund_id, "fund_id"));
  FL_CHECK(Id(e.bucket, "bucket"));
  FL_CHECK(Id(e.to_bucket, "to_bucket"));
  if (e.bucket == kGeneralBucket) return Bad("bucket", "is unrestricted; nothing to release");
  if (e.bucket == e.to_bucket) return Bad("to_bucket", "must differ from bucket");
  FL_CHECK(PositiveAmount(e.amount_fen, "amount_fen"));
  FL_CHECK(OptionalDate(e.value_date, "value_date"));
  return Text(e.consent_ref, "consent_ref", true);
}
Status Check(const fb::ErasedT& e) {
  FL_CHECK(Id(e.subject_id, "subject_id"));
  return Text(e.reason, "reason", true);
}
Status Check(const fb::DisclosurePublishedT& e) {
  FL_CHECK(Id(e.organisation, "organisation"));
  FL_CHECK(OptionalId(e.fund_id, "fund_id"));
  FL_CHECK(Id(e.period, "period"));
  if (e.schedule_item != "quarterly" && e.schedule_item != "annual" &&
      e.schedule_item != "campaign") {
    return Bad("schedule_item", "must be quarterly, annual or campaign");
  }
  FL_CHECK(Token(e.report_sha256, "report_sha256", true));
  if (e.checkpoint_size == 0)
    return Bad("checkpoint_size", "must name the checkpoint the report was computed from");
  return Status::Ok();
}
Status Check(const std::monostate&) { return InvalidArgument("no event"); }

#undef FL_CHECK

constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

}  // namespace

fb::EventType EventTypeOf(const DomainEvent& event) {
  return std::visit(
      [](const auto& e) -> fb::EventType {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return fb::EventType::Unknown;
        } else {
          return EventTag<T>::kType;
        }
      },
      event);
}

bool IsDomainEvent(fb::EventType type) {
  switch (type) {
#define FL_CASE(name) case fb::EventType::name:
    FL_DOMAIN_EVENTS(FL_CASE)
#undef FL_CASE
    return true;
    default:
      return false;
  }
}

Bytes EncodeEvent(const DomainEvent& event) {
  return std::visit(
      [](const auto& e) -> Bytes {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return {};
        } else {
          flatbuffers::FlatBufferBuilder b(256);
          b.Finish(T::TableType::Pack(b, &e));
          return Bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
        }
      },
      event);
}

Status VerifyDomainPayload(fb::EventType type, ByteView payload) {
  switch (type) {
#define FL_CASE(name)                                                           \
  case fb::EventType::name:                                                     \
    if (!VerifyPayload<fb::name>(payload))                                      \
      return InvalidArgument(#name " payload is not a valid " #name " buffer"); \
    return CheckEnums(*flatbuffers::GetRoot<fb::name>(payload.data()));
    FL_DOMAIN_EVENTS(FL_CASE)
#undef FL_CASE
    default:
      return InvalidArgument("not a domain event type " +
                             std::to_string(static_cast<unsigned>(type)))
          .WithField("event_type");
  }
}

Result<DomainEvent> DecodeEvent(fb::EventType type, ByteView payload) {
  FL_RETURN_IF_ERROR(VerifyDomainPayload(type, payload));  // refuses any other type
  return DecodeVerifiedEvent(type, payload);
}

DomainEvent DecodeVerifiedEvent(fb::EventType type, ByteView payload) {
  switch (type) {
#define FL_CASE(name)                                               \
  case fb::EventType::name: {                                       \
    fb::name##T out;                                                \
    flatbuffers::GetRoot<fb::name>(payload.data())->UnPackTo(&out); \
    return DomainEvent(std::move(out));                             \
  }
    FL_DOMAIN_EVENTS(FL_CASE)
#undef FL_CASE
    default:
      assert(false && "DecodeVerifiedEvent of an event type that is not a domain event");
      return DomainEvent();
  }
}

Status CheckEventFields(const DomainEvent& event) {
  return std::visit(
      [](const auto& e) {
        FL_RETURN_IF_ERROR(CheckEnums(e));
        return Check(e);
      },
      event);
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kIdBytesMax) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsValidMonth(int32_t m) {
  int32_t year = m / 100, month = m % 100;
  return year >= 1900 && year <= 2999 && month >= 1 && month <= 12;
}

bool IsValidDate(int32_t d) {
  int32_t year = d / 10000, month = d / 100 % 100, day = d % 100;
  if (year < 1900 || year > 2999 || month < 1 || month > 12 || day < 1) return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int days = kDaysInMonth[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= days;
}

bool IsValidRegionCode(std::string_view code) {
  if (code.size() != 6) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return code[0] != '0';
}

int32_t MonthIndex(int32_t yyyymm) { return yyyymm / 100 * 12 + (yyyymm % 100 - 1); }
int32_t MonthFromIndex(int32_t index) { return index / 12 * 100 + index % 12 + 1; }
int32_t FirstDayOf(int32_t yyyymm) { return yyyymm * 100 + 1; }

int32_t AgeOn(int32_t birth_date, int32_t date) {
  // Compared as mmdd, so 0229 comes after 0228 and before 0301.
  return date / 10000 - birth_date / 10000 - (date % 10000 < birth_date % 10000 ? 1 : 0);
}

Result<int32_t> ParseMonth(std::string_view text) {
  int year = 0, month = 0;
  if (text.size() == 7 && text[4] == '-') {
    auto r1 = std::from_chars(text.data(), text.data() + 4, year);
    auto r2 = std::from_chars(text.data() + 5, text.data() + 7, month);
    if (r1.ec == std::errc() && r1.ptr == text.data() + 4 && r2.ec == std::errc() &&
        r2.ptr == text.data() + 7) {
      int32_t m = year * 100 + month;
      if (IsValidMonth(m)) return m;
    }
  }
  return InvalidArgument("'" + std::string(text.substr(0, 40)) + "' is not a month YYYY-MM");
}

Result<int32_t> ParseDate(std::string_view text) {
  int year = 0, month = 0, day = 0;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    auto r1 = std::from_chars(text.data(), text.data() + 4, year);
    auto r2 = std::from_chars(text.data() + 5, text.data() + 7, month);
    auto r3 = std::from_chars(text.data() + 8, text.data() + 10, day);
    if (r1.ec == std::errc() && r2.ec == std::errc() && r3.ec == std::errc() &&
        r1.ptr == text.data() + 4 && r2.ptr == text.data() + 7 && r3.ptr == text.data() + 10) {
      int32_t d = year * 10000 + month * 100 + day;
      if (IsValidDate(d)) return d;
    }
  }
  return InvalidArgument("'" + std::string(text.substr(0, 40)) + "' is not a date YYYY-MM-DD");
}

std::string FormatMonth(int32_t m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", m / 100, m % 100);
  return buf;
}

std::string FormatDate(int32_t d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d / 10000, d / 100 % 100, d % 100);
  return buf;
}

std::string FormatFen(int64_t fen) { return Amount::Fen(fen).ToYuan(); }

Result<int64_t> ParseYuan(std::string_view text) {
  FL_ASSIGN_OR_RETURN(Amount amount, Amount::ParseYuan(text));
  return amount.fen();
}

}  // namespace fundledger
