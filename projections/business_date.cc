#include "projections/business_date.h"

#include <algorithm>
#include <cassert>

#include "projections/china_calendar.h"

namespace fundledger {
namespace {

// `date` (yyyymmdd, 0: none) as an instant; `posted_ms` when there is none.
int64_t DateOr(int32_t date, int64_t posted_ms) {
  return date == 0 ? posted_ms : ChinaDateStartMs(date);
}

int64_t RollStartMs(const DomainState& s, const std::string& batch, int64_t otherwise_ms) {
  auto b = s.batches.find(batch);
  return b == s.batches.end() ? otherwise_ms : ChinaDateStartMs(FirstDayOf(b->second.period));
}

struct BusinessTime {
  const DomainState& s;
  int64_t posted_ms;
  int64_t operator()(const fb::AppropriatedT& e) const { return DateOr(e.value_date, posted_ms); }
  int64_t operator()(const fb::DonationReceivedT& e) const {
    return DateOr(e.receipt_date, posted_ms);
  }
  int64_t operator()(const fb::LotteryGrantAwardedT& e) const {
    return DateOr(e.value_date, posted_ms);
  }
  int64_t operator()(const fb::RecoveredT& e) const { return DateOr(e.value_date, posted_ms); }
  int64_t operator()(const fb::ExpensedT& e) const { return DateOr(e.value_date, posted_ms); }
  int64_t operator()(const fb::TransferredBetweenFundsT& e) const {
    return DateOr(e.value_date, posted_ms);
  }
  int64_t operator()(const fb::RestrictionReleasedT& e) const {
    return DateOr(e.value_date, posted_ms);
  }
  int64_t operator()(const fb::DisbursementBatchApprovedT& e) const {
    return RollStartMs(s, e.batch_id, posted_ms);
  }
  int64_t operator()(const fb::PaymentReturnedT& e) const {
    return std::max(posted_ms, RollStartMs(s, e.batch_id, posted_ms));
  }
  int64_t operator()(const fb::PaymentReissuedT& e) const {
    return std::max(posted_ms, RollStartMs(s, e.batch_id, posted_ms));
  }
  template <typename T>
  int64_t operator()(const T&) const {
    return posted_ms;
  }
};

}  // namespace

int64_t ChinaDateStartMs(int32_t yyyymmdd) {
  assert(IsValidDate(yyyymmdd));
  return ChinaDayMs({yyyymmdd / 10000, static_cast<unsigned>(yyyymmdd / 100 % 100),
                     static_cast<unsigned>(yyyymmdd % 100)})
      .start_ms;
}

int32_t ChinaDateNumber(int64_t ms) {
  ChinaDate d = ChinaDateOf(ms);
  return d.year * 10000 + static_cast<int32_t>(d.month * 100 + d.day);
}

int64_t BusinessTimeMs(const DomainEvent& event, const DomainState& before, int64_t posted_ms) {
  return std::visit(BusinessTime{before, posted_ms}, event);
}

}  // namespace fundledger
