#include <boost/json.hpp>
#include <ctime>

#include "api/service.h"

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
  return o;
}

}  // namespace

HttpResponse Service::ListFunds(Context& c) {
  json::array funds = ledger_.domain().Read([&](const DomainState& s) {
    json::array out;
    for (const auto& [id, f] : s.funds) {
      if (c.who.role == fb::Role::charity && f.organisation != c.who.org) continue;
      json::object o;
      o["fund_id"] = id;
      o["name"] = f.name;
      o["kind"] = fb::EnumNameFundKind(f.kind);
      o["organisation"] = f.organisation;
      o["closed"] = f.closed;
      out.push_back(std::move(o));
    }
    return out;
  });
  json::object o;
  o["funds"] = std::move(funds);
  return JsonResponse(200, json::serialize(o));
}

HttpResponse Service::GetFund(Context& c) {
  std::string id = c.params["fund_id"];
  Status scope = CheckFundScope(c.who, id);
  if (!scope.ok()) return ErrorResponse(scope);
  std::optional<json::object> fund =
      ledger_.domain().Read([&](const DomainState& s) -> std::optional<json::object> {
        auto it = s.funds.find(id);
        if (it == s.funds.end()) return std::nullopt;
        const FundState& f = it->second;
        json::object o;
        o["fund_id"] = id;
        o["name"] = f.name;
        o["kind"] = fb::EnumNameFundKind(f.kind);
        o["organisation"] = f.organisation;
        o["closed"] = f.closed;
        json::array programs, purposes;
        for (const auto& p : f.programs) programs.emplace_back(p);
        for (const auto& p : f.purposes) purposes.emplace_back(p);
        o["programs"] = std::move(programs);
        o["purposes"] = std::move(purposes);
        json::object buckets;
        for (const auto& [account, b] : projections_.BalancesWithPrefix(s, FundAccount(id, ""))) {
          buckets[account.substr(FundAccount(id, "").size())] = BalanceJson(b);
        }
        o["buckets"] = std::move(buckets);
        return o;
      });
  if (!fund) return ErrorResponse(NotFound("fund '" + id + "' does not exist"));
  return JsonResponse(200, json::serialize(*fund));
}

HttpResponse Service::Balances(Context& c) {
  std::string fund = Param(c.params, "fund_id");
  if (fund.empty())
    return ErrorResponse(
        InvalidArgument("query parameter fund_id is required").WithField("fund_id"));
  Status scope = CheckFundScope(c.who, fund);
  if (!scope.ok()) return ErrorResponse(scope);
  std::string prefix = FundAccount(fund, "");
  std::optional<std::map<std::string, Balance>> current = ledger_.domain().Read(
      [&](const DomainState& s) -> std::optional<std::map<std::string, Balance>> {
        if (!s.funds.count(fund)) return std::nullopt;
        return projections_.BalancesWithPrefix(s, prefix);
      });
  if (!current) return ErrorResponse(NotFound("fund '" + fund + "' does not exist"));
  std::map<std::string, Balance> balances = std::move(*current);
  json::object o;
  o["fund_id"] = fund;
  std::string as_of = Param(c.params, "as_of");
  uint64_t index = ledger_.log().size() - 1;
  if (!as_of.empty()) {
    Result<uint64_t> at = InvalidArgument("");
    if (std::all_of(as_of.begin(), as_of.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      at = std::stoull(as_of);
    } else {
      std::tm tm{};
      const char* end = strptime(as_of.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
      if (end == nullptr || (*end != '\0' && std::string_view(end) != "Z")) {
        return ErrorResponse(
            InvalidArgument("as_of takes an entry index or a UTC time like 2025-03-31T23:59:59Z")
                .WithField("as_of"));
      }
      at = ledger_.log().IndexAtTime(static_cast<int64_t>(timegm(&tm)) * 1000 + 999);
    }
    if (!at.ok()) return ErrorResponse(at.status());
    if (*at >= ledger_.log().size())
      return ErrorResponse(NotFound("entry " + std::to_string(*at) + " does not exist yet"));
    index = *at;
    for (auto& [account, b] : balances) {
      Result<Balance> past = Projections::BalanceAsOf(ledger_.log(), account, index);
      if (!past.ok()) return ErrorResponse(past.status());
      b = *past;
    }
  }
  o["as_of_index"] = index;
  json::object buckets;
  for (const auto& [account, b] : balances) buckets[account.substr(prefix.size())] = BalanceJson(b);
  o["buckets"] = std::move(buckets);
  return JsonResponse(200, json::serialize(o));
}

HttpResponse Service::GetBeneficiary(Context& c) {
  std::string id = c.params["beneficiary_id"];
  std::optional<json::object> ben =
      ledger_.domain().Read([&](const DomainState& s) -> std::optional<json::object> {
        auto it = s.beneficiaries.find(id);
        if (it == s.beneficiaries.end()) return std::nullopt;
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
          json::object st;
          st["status"] = fb::EnumNameBeneficiaryStatus(sc.status);
          st["effective_date"] = FormatDate(sc.effective_date);
          statuses.push_back(std::move(st));
        }
        o["status_changes"] = std::move(statuses);
        json::array enrollments;
        auto progs = s.programs_of.find(id);
        if (progs != s.programs_of.end()) {
          for (const std::string& p : progs->second) {
            for (const EnrollmentTerm& t : s.enrollments.at(EnrollmentKey(id, p))) {
              json::object e;
              e["program_id"] = p;
              e["from"] = FormatMonth(t.from_month);
              e["to"] = t.to_month == 0 ? std::string() : FormatMonth(t.to_month);
              e["monthly_amount_fen"] = t.monthly_amount_fen;
              enrollments.push_back(std::move(e));
            }
          }
        }
        o["enrollments"] = std::move(enrollments);
        json::object paid;
        for (const auto& [key, p] : projections_.PaidTo(s, id)) {
          json::object t;
          t["amount_fen"] = p.amount_fen;
          t["lines"] = p.lines;
          paid[key] = std::move(t);
        }
        o["paid"] = std::move(paid);
        o["received_fen"] = projections_.BalanceOf(s, BeneficiaryAccount(id)).posted_fen;
        return o;
      });
  if (!ben) return ErrorResponse(NotFound("beneficiary '" + id + "' is not registered"));
  return JsonResponse(200, json::serialize(*ben));
}

HttpResponse Service::GetBatch(Context& c) {
  std::string id = c.params["batch_id"];
  bool with_lines = Param(c.params, "lines") == "1" || Param(c.params, "lines") == "true";
  std::optional<json::object> batch =
      ledger_.domain().Read([&](const DomainState& s) -> std::optional<json::object> {
        auto it = s.batches.find(id);
        if (it == s.batches.end()) return std::nullopt;
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
          o["lines"] = std::move(lines);
          o["lines_truncated"] = b.lines.size() > kBatchLinesShownMax;
        }
        return o;
      });
  if (!batch) return ErrorResponse(NotFound("batch '" + id + "' does not exist"));
  return JsonResponse(200, json::serialize(*batch));
}
}  // namespace fundledger
