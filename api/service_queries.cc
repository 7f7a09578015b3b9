#include <boost/json.hpp>

#include "api/service.h"
#include "projections/fund_balances.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr uint64_t kBatchLinesShownMax = 10'000;

json::object BalanceJson(const Balance& b) {
  json::object o;
  o["posted_fen"] = b.posted_fen;
  o["pending_fen"] = b.pending_fen;
  o["available_fen"] = b.available_fen();
  o["posted"] = FormatFen(b.posted_fen);
  o["available"] = FormatFen(b.available_fen());
  return o;
}

json::object BucketsJson(const FundBalanceReport& report) {
  json::object buckets;
  for (const BucketBalance& b : report.buckets) buckets[b.bucket] = BalanceJson(b.balance);
  return buckets;
}

json::object FundSummaryJson(const std::string& id, const FundState& f) {
  json::object o;
  o["fund_id"] = id;
  o["name"] = f.name;
  o["kind"] = fb::EnumNameFundKind(f.kind);
  o["organisation"] = f.organisation;
  o["closed"] = f.closed;
  return o;
}

json::array EnrollmentsJson(const DomainState& s, const std::string& id) {
  json::array enrollments;
  auto progs = s.programs_of.find(id);
  if (progs == s.programs_of.end()) return enrollments;
  for (const std::string& p : progs->second) {
    const EnrollmentTerms* terms = s.EnrollmentsOf(id, p);
    if (terms == nullptr) continue;
    for (const EnrollmentTerm& t : *terms) {
      json::object e;
      e["program_id"] = p;
      e["from"] = FormatMonth(t.from_month);
      e["to"] = t.to_month == 0 ? std::string() : FormatMonth(t.to_month);
      e["monthly_amount_fen"] = t.monthly_amount_fen;
      e["monthly_amount"] = FormatFen(t.monthly_amount_fen);
      enrollments.push_back(std::move(e));
    }
  }
  return enrollments;
}

json::array BatchLinesJson(const DomainState& s, const BatchState& b) {
  json::array lines;
  for (size_t i = 0; i < b.lines.size() && i < kBatchLinesShownMax; ++i) {
    const BatchLine& l = b.lines[i];
    json::object lo;
    lo["line_no"] = l.line_no;
    lo["beneficiary_id"] = s.names[l.beneficiary];
    lo["program_id"] = s.names[l.program];
    lo["period"] = FormatMonth(l.period);
    lo["amount_fen"] = l.amount_fen;
    lo["state"] = LineStateName(l.state);
    lines.push_back(std::move(lo));
  }
  return lines;
}

}  // namespace

HttpResponse Service::ListFunds(Context& c) {
  return ReadJson([&](const DomainState& s) -> Result<json::object> {
    json::array funds;
    for (const auto& [id, f] : s.funds) {
      if (c.who.role == fb::Role::charity && f.organisation != c.who.org) continue;
      funds.push_back(FundSummaryJson(id, f));
    }
    return json::object{{"funds", std::move(funds)}};
  });
}

HttpResponse Service::GetFund(Context& c) {
  std::string id = c.params["fund_id"];
  Status scope = CheckFundScope(c.who, id);
  if (!scope.ok()) return ErrorResponse(scope);
  FundBalances balances(ledger_, projections_);
  return ReadJson([&](const DomainState& s) -> Result<json::object> {
    auto it = s.funds.find(id);
    if (it == s.funds.end()) return NotFound("fund '" + id + "' does not exist");
    const FundState& f = it->second;
    json::object o = FundSummaryJson(id, f);
    json::array programs, purposes;
    for (const auto& p : f.programs) programs.emplace_back(p);
    for (const auto& p : f.purposes) purposes.emplace_back(p);
    o["programs"] = std::move(programs);
    o["purposes"] = std::move(purposes);
    FL_ASSIGN_OR_RETURN(FundBalanceReport now, balances.At(s, id, AsOf{}));
    o["buckets"] = BucketsJson(now);
    return o;
  });
}

HttpResponse Service::Balances(Context& c) {
  std::string fund = Param(c.params, "fund_id");
  if (fund.empty())
    return ErrorResponse(
        InvalidArgument("query parameter fund_id is required").WithField("fund_id"));
  Status scope = CheckFundScope(c.who, fund);
  if (!scope.ok()) return ErrorResponse(scope);
  Result<AsOf> as_of = ParseAsOf(Param(c.params, "as_of"), "as_of");
  if (!as_of.ok()) return ErrorResponse(as_of.status());
  FundBalances balances(ledger_, projections_);
  return ReadJson([&](const DomainState& s) -> Result<json::object> {
    FL_ASSIGN_OR_RETURN(FundBalanceReport r, balances.At(s, fund, *as_of));
    json::object total;
    total["posted_fen"] = r.posted.fen();
    total["pending_fen"] = r.pending.fen();
    total["available_fen"] = r.available.fen();
    total["posted"] = r.posted.ToYuan();
    total["available"] = r.available.ToYuan();
    return json::object{{"fund_id", fund},
                        {"as_of_index", r.as_of_index},
                        {"buckets", BucketsJson(r)},
                        {"total", std::move(total)}};
  });
}

HttpResponse Service::GetBeneficiary(Context& c) {
  std::string id = c.params["beneficiary_id"];
  return ReadJson([&](const DomainState& s) -> Result<json::object> {
    auto it = s.beneficiaries.find(id);
    if (it == s.beneficiaries.end()) return NotFound("beneficiary '" + id + "' is not registered");
    const BeneficiaryState& b = it->second;
    json::object o;
    o["beneficiary_id"] = id;
    o["household_id"] = b.household;
    o["region_code"] = b.region;
    o["birth_year"] = b.birth_month / 100;
    o["payee_role"] = fb::EnumNamePayeeRole(b.payee_role);
    o["erased"] = b.erased;
    json::array statuses;
    for (const StatusChange& sc : b.statuses) {
      statuses.push_back(json::object{{"status", fb::EnumNameBeneficiaryStatus(sc.status)},
                                      {"effective_date", FormatDate(sc.effective_date)}});
    }
    o["status_changes"] = std::move(statuses);
    o["enrollments"] = EnrollmentsJson(s, id);
    json::object paid;
    for (const auto& [key, p] : projections_.PaidTo(s, id)) {
      paid[key] = json::object{{"amount_fen", p.amount_fen}, {"lines", p.lines}};
    }
    o["paid"] = std::move(paid);
    o["received_fen"] = projections_.BalanceOf(s, BeneficiaryAccount(id)).posted_fen;
    return o;
  });
}

HttpResponse Service::GetBatch(Context& c) {
  std::string id = c.params["batch_id"];
  bool with_lines = Param(c.params, "lines") == "1" || Param(c.params, "lines") == "true";
  return ReadJson([&](const DomainState& s) -> Result<json::object> {
    auto it = s.batches.find(id);
    if (it == s.batches.end()) return NotFound("batch '" + id + "' does not exist");
    const BatchState& b = it->second;
    json::object o;
    o["batch_id"] = id;
    o["status"] = BatchStatusName(b.status);
    o["maker"] = b.maker;
    o["fund_id"] = b.fund;
    o["bucket"] = b.bucket;
    o["period"] = FormatMonth(b.period);
    o["total_fen"] = b.total_fen;
    o["total"] = FormatFen(b.total_fen);
    o["prepared_index"] = b.prepared_index;
    if (b.status != BatchStatus::kPrepared) o["decided_index"] = b.decided_index;
    std::map<std::string, uint64_t> by_state;
    for (const BatchLine& l : b.lines) by_state[std::string(LineStateName(l.state))]++;
    json::object states;
    for (const auto& [k, n] : by_state) states[k] = n;
    o["lines_by_state"] = std::move(states);
    o["line_count"] = b.lines.size();
    if (with_lines) {
      o["lines"] = BatchLinesJson(s, b);
      o["lines_truncated"] = b.lines.size() > kBatchLinesShownMax;
    }
    return o;
  });
}

}  // namespace fundledger
