#include "tests/projections/independent_books.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "ledger/entry_codec.h"
#include "ledger/events.h"

namespace fundledger::testing {
namespace {

// 00:00 in China (UTC+8) on the first of `month` of `year`, in UTC ms.
int64_t ChinaMonthStartMs(int year, int month) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = 1;
  return (static_cast<int64_t>(timegm(&tm)) - 8 * 3600) * 1000;
}
// 00:00 in China on yyyymmdd.
int64_t ChinaDayStartMs(int32_t date) {
  return ChinaMonthStartMs(date / 10000, date / 100 % 100) + (date % 100 - 1) * 86'400'000LL;
}

struct Range {
  int64_t start = 0, end = 0;
  bool Has(int64_t t) const { return t >= start && t < end; }
};

struct Line {
  std::string person, program;
  int64_t amount_fen = 0;
};
struct Roll {
  std::string fund, bucket;
  int32_t period = 0;  // yyyymm
  int64_t total_fen = 0;
  std::map<uint32_t, Line> lines;
};
// What an entry did, for a reversal of it: its fund-account moves and what it spent.
struct Done {
  std::vector<std::pair<std::string, int64_t>> moves;  // fund account, delta
  std::string kind;                                    // expense, reissue, recovery, donation
  std::string cls, purpose;
  std::optional<Line> line;
  int64_t amount_fen = 0;
};

class Fold {
 public:
  Fold(const std::string& kind, const std::string& id, const std::string& period)
      : kind_(kind), id_(id) {
    int year = std::stoi(period.substr(0, 4));
    year_ = {ChinaMonthStartMs(year, 1), ChinaMonthStartMs(year + 1, 1)};
    last_year_ = {ChinaMonthStartMs(year - 1, 1), year_.start};
    period_ = year_;
    if (period.size() == 7) {
      int q = period[6] - '1';
      period_ = {ChinaMonthStartMs(year, 1 + 3 * q),
                 q == 3 ? year_.end : ChinaMonthStartMs(year, 4 + 3 * q)};
    }
  }

  Status Entry(uint64_t i, ByteView bytes) {
    FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
    posted_ = t_ = e.timestamp_ms;
    if (IsDomainEvent(e.event_type)) {
      FL_ASSIGN_OR_RETURN(DomainEvent ev, DecodeEvent(e.event_type, e.payload));
      done_ = Done{};
      std::visit([&](const auto& x) { On(x); }, ev);
      if (!done_.moves.empty() || !done_.kind.empty()) dones_[i] = done_;
    }
    return Status::Ok();
  }

  IndependentFigures Finish() {
    for (const auto& [t, account, delta] : dated_) {
      if (!InScope(account)) continue;
      if (t < period_.start) f_.opening_fen += delta;
      if (t < period_.end) f_.closing_fen += delta, end_[account] += delta;
    }
    for (const auto& [account, fen] : end_) {
      std::string bucket = account.substr(account.find('/', 5) + 1);
      if (InScope(account) && bucket != "general" && fen > 0)
        f_.restricted_left[account.substr(5)] = fen;
    }
    for (auto& [program, regions] : f_.paid_by_program_region) {
      for (auto& [region, p] : regions) {
        p.beneficiaries = static_cast<int64_t>(people_[program + "/" + region].size());
        p.households = static_cast<int64_t>(households_[program + "/" + region].size());
      }
    }
    return f_;
  }

 private:
  static std::string Account(const std::string& fund, const std::string& bucket) {
    return "fund/" + fund + "/" + bucket;
  }
  bool InScope(const std::string& account) const {
    size_t slash = account.find('/', 5);
    std::string fund = account.substr(5, slash - 5), bucket = account.substr(slash + 1);
    if (kind_ == "project") return bucket == id_;
    auto org = org_of_.find(fund);
    return kind_ == "fund" ? fund == id_ : org != org_of_.end() && org->second == id_;
  }
  // The business date of what the entry records: a date given, else the posting time.
  void DatedOn(int32_t yyyymmdd) { t_ = yyyymmdd == 0 ? posted_ : ChinaDayStartMs(yyyymmdd); }
  int64_t RollStart(const Roll& r) const {
    return ChinaMonthStartMs(r.period / 100, r.period % 100);
  }
  // A fund account's balance changes at the entry's business date.
  void Book(const std::string& account, int64_t delta) { dated_.emplace_back(t_, account, delta); }
  // Moves money of a fund account; returns whether the account is in scope.
  bool Move(const std::string& account, int64_t delta) {
    Book(account, delta);
    done_.moves.emplace_back(account, delta);
    return InScope(account);
  }
  void In(const std::string& line, int64_t fen) {
    if (period_.Has(t_)) f_.inflows[line] += fen;
  }
  void Out(const std::string& line, int64_t fen) {
    if (period_.Has(t_)) f_.outflows[line] += fen;
  }
  void Spent(const std::string& cls, const std::string& purpose, int64_t fen) {
    if (period_.Has(t_)) f_.spending_by_class[cls] += fen, f_.spending_by_purpose[purpose] += fen;
    if (!year_.Has(t_)) return;
    f_.year_spending_fen += fen;
    if (cls == "charitable" || cls == "payments") f_.year_charitable_fen += fen;
    if (cls == "admin") f_.year_admin_fen += fen;
  }
  void Paid(const Line& l, int64_t fen) {
    Spent("payments", l.program, fen);
    if (!period_.Has(t_)) return;
    const auto& [region, household] = people_at_[l.person];
    f_.paid_by_program_region[l.program][region].amount_fen += fen;
    if (fen > 0) {
      people_[l.program + "/" + region].insert(l.person);
      households_[l.program + "/" + region].insert(household);
    }
  }
  const Line* FindLine(const std::string& batch, uint32_t line_no, const Roll** roll) {
    auto r = rolls_.find(batch);
    if (r == rolls_.end()) return nullptr;
    auto l = r->second.lines.find(line_no);
    *roll = &r->second;
    return l == r->second.lines.end() ? nullptr : &l->second;
  }

  void On(const fb::FundOpenedT& x) { org_of_[x.fund_id] = x.organisation; }
  void On(const fb::BeneficiaryRegisteredT& x) {
    people_at_[x.beneficiary_id] = {x.region_code, x.household_id};
  }
  void On(const fb::BeneficiaryChangedT& x) {
    auto& [region, household] = people_at_[x.beneficiary_id];
    if (!x.region_code.empty()) region = x.region_code;
    if (!x.household_id.empty()) household = x.household_id;
  }
  void On(const fb::AppropriatedT& x) {
    DatedOn(x.value_date);
    if (Move(Account(x.fund_id, x.bucket), x.amount_fen)) {
      In("appropriations", x.amount_fen);
      if (period_.Has(t_)) f_.appropriations_fen += x.amount_fen;
    }
  }
  void On(const fb::DonationReceivedT& x) {
    DatedOn(x.receipt_date);
    if (!Move(Account(x.fund_id, x.bucket), x.amount_fen)) return;
    In("donations", x.amount_fen);
    done_.kind = "donation";
    done_.amount_fen = x.amount_fen;
    if (last_year_.Has(t_)) f_.previous_year_income_fen += x.amount_fen;
    if (!period_.Has(t_)) return;
    f_.donations_count++;
    f_.donations_fen += x.amount_fen;
    (x.bucket == "general" ? f_.donations_open_fen : f_.donations_restricted_fen) += x.amount_fen;
    if (x.donor_id.empty()) f_.anonymous_donations++;
    if (x.in_kind) f_.in_kind_fen += x.amount_fen;
  }
  void On(const fb::LotteryGrantAwardedT& x) {
    DatedOn(x.value_date);
    if (Move(Account(x.from_fund_id, x.from_bucket), -x.amount_fen)) {
      Out("grants", x.amount_fen);
      if (period_.Has(t_)) f_.grants_out_by_category[x.category] += x.amount_fen;
    }
    if (Move(Account(x.to_fund_id, x.project_id), x.amount_fen)) {
      In("lottery_grants", x.amount_fen);
      if (period_.Has(t_)) f_.lottery_grants_in_fen += x.amount_fen;
    }
  }
  void On(const fb::TransferredBetweenFundsT& x) {
    DatedOn(x.value_date);
    if (Move(Account(x.from_fund_id, x.from_bucket), -x.amount_fen)) {
      Out("transfers_out", x.amount_fen);
      if (period_.Has(t_)) f_.transfers_out_fen += x.amount_fen;
    }
    if (Move(Account(x.to_fund_id, x.to_bucket), x.amount_fen)) {
      In("transfers_in", x.amount_fen);
      if (period_.Has(t_)) f_.transfers_in_fen += x.amount_fen;
    }
  }
  void On(const fb::RestrictionReleasedT& x) {
    DatedOn(x.value_date);
    if (Move(Account(x.fund_id, x.bucket), -x.amount_fen)) Out("releases_out", x.amount_fen);
    if (Move(Account(x.fund_id, x.to_bucket), x.amount_fen)) In("releases_in", x.amount_fen);
  }
  void On(const fb::ExpensedT& x) {
    DatedOn(x.value_date);
    if (!Move(Account(x.fund_id, x.bucket), -x.amount_fen)) return;
    std::string cls = fb::EnumNameExpenseClass(x.class_);
    Out("expenses", x.amount_fen);
    Spent(cls, x.purpose, x.amount_fen);
    done_ = {done_.moves, "expense", cls, x.purpose, std::nullopt, x.amount_fen};
  }
  void On(const fb::DisbursementBatchPreparedT& x) {
    Roll& r = rolls_[x.batch_id];
    if (x.chunk == 0) r = Roll{x.fund_id, x.bucket, x.period, 0, {}};
    for (const fb::DisbursementLine& l : x.lines) {
      r.lines[l.line_no()] = {x.beneficiary_ids[l.beneficiary()], x.program_ids[l.program()],
                              l.amount_fen()};
      r.total_fen += l.amount_fen();
    }
  }
  void On(const fb::DisbursementBatchApprovedT& x) {
    auto r = rolls_.find(x.batch_id);
    if (r == rolls_.end()) return;
    t_ = RollStart(r->second);
    Book(Account(r->second.fund, r->second.bucket), -r->second.total_fen);
    if (!InScope(Account(r->second.fund, r->second.bucket))) return;
    Out("payments", r->second.total_fen);
    for (const auto& [no, l] : r->second.lines) Paid(l, l.amount_fen);
  }
  void On(const fb::PaymentReturnedT& x) {
    const Roll* r = nullptr;
    const Line* l = FindLine(x.batch_id, x.line_no, &r);
    if (l == nullptr) return;
    t_ = std::max(posted_, RollStart(*r));
    if (!Move(Account(r->fund, r->bucket), l->amount_fen)) return;
    In("returns", l->amount_fen);
    Paid(*l, -l->amount_fen);
    done_ = {done_.moves, "return", "", "", *l, l->amount_fen};
  }
  void On(const fb::PaymentReissuedT& x) {
    const Roll* r = nullptr;
    const Line* l = FindLine(x.batch_id, x.line_no, &r);
    if (l == nullptr) return;
    t_ = std::max(posted_, RollStart(*r));
    if (!Move(Account(r->fund, r->bucket), -l->amount_fen)) return;
    Out("reissues", l->amount_fen);
    Paid(*l, l->amount_fen);
    done_ = {done_.moves, "reissue", "", "", *l, l->amount_fen};
  }
  void On(const fb::RecoveredT& x) {
    DatedOn(x.value_date);
    if (!Move(Account(x.fund_id, x.bucket), x.amount_fen)) return;
    In("recoveries", x.amount_fen);
    const Roll* r = nullptr;
    const Line* l = x.batch_id.empty() ? nullptr : FindLine(x.batch_id, x.line_no, &r);
    std::optional<Line> line;
    if (l != nullptr && InScope(Account(r->fund, r->bucket))) line = *l;
    Recovered(line, -x.amount_fen);
    done_ = {done_.moves, "recovery", "", "", line, x.amount_fen};
  }
  void Recovered(const std::optional<Line>& line, int64_t fen) {
    if (line) return Paid(*line, fen);
    Spent("payments", "recovered", fen);
  }
  void On(const fb::ReversalT& x) {
    auto d = dones_.find(x.entry_index);
    if (d == dones_.end()) return;
    const Done what = d->second;
    for (const auto& [account, delta] : what.moves) {
      Book(account, -delta);
      if (!InScope(account) || delta == 0) continue;
      if (delta > 0) Out("reversals", delta);
      if (delta < 0) In("reversals", -delta);
    }
    bool in_scope = false;
    for (const auto& [account, delta] : what.moves) in_scope = in_scope || InScope(account);
    if (!in_scope) return;
    if (what.kind == "expense") Spent(what.cls, what.purpose, -what.amount_fen);
    if (what.kind == "reissue") Paid(*what.line, -what.amount_fen);
    if (what.kind == "return") Paid(*what.line, what.amount_fen);
    if (what.kind == "recovery") Recovered(what.line, what.amount_fen);
    if (what.kind == "donation" && last_year_.Has(t_))
      f_.previous_year_income_fen -= what.amount_fen;
  }
  template <typename T>
  void On(const T&) {}

  std::string kind_, id_;
  Range period_, year_, last_year_;
  int64_t posted_ = 0;  // the entry's timestamp
  int64_t t_ = 0;       // its business date
  IndependentFigures f_;
  std::vector<std::tuple<int64_t, std::string, int64_t>> dated_;  // date, fund account, delta
  std::map<std::string, int64_t> end_;                            // balances at the period's end
  std::map<std::string, std::string> org_of_;
  std::map<std::string, std::pair<std::string, std::string>> people_at_;  // region, household
  std::map<std::string, Roll> rolls_;
  std::map<uint64_t, Done> dones_;
  Done done_;
  std::map<std::string, std::set<std::string>> people_, households_;
};

}  // namespace

Result<IndependentFigures> RecomputeFigures(const LogSource& log, uint64_t size,
                                            const std::string& kind, const std::string& id,
                                            const std::string& period) {
  Fold fold(kind, id, period);
  FL_RETURN_IF_ERROR(
      log.ScanEntries(0, size, [&](uint64_t i, ByteView bytes) { return fold.Entry(i, bytes); }));
  return fold.Finish();
}

void ExpectSameFigures(const DisclosureReport& r, const IndependentFigures& f) {
  SCOPED_TRACE(r.scope.kind + " " + r.scope.id + " " + r.scope.period);
  EXPECT_EQ(r.opening_fen, f.opening_fen);
  EXPECT_EQ(r.closing_fen, f.closing_fen);
  for (const auto& [line, fen] : r.inflows) {
    auto it = f.inflows.find(line);
    EXPECT_EQ(fen, it == f.inflows.end() ? 0 : it->second) << "inflow " << line;
  }
  for (const auto& [line, fen] : r.outflows) {
    auto it = f.outflows.find(line);
    EXPECT_EQ(fen, it == f.outflows.end() ? 0 : it->second) << "outflow " << line;
  }
  EXPECT_EQ(r.donations_count, f.donations_count);
  EXPECT_EQ(r.donations_fen, f.donations_fen);
  EXPECT_EQ(r.donations_restricted_fen, f.donations_restricted_fen);
  EXPECT_EQ(r.donations_open_fen, f.donations_open_fen);
  EXPECT_EQ(r.anonymous_donations, f.anonymous_donations);
  EXPECT_EQ(r.in_kind_fen, f.in_kind_fen);
  EXPECT_EQ(r.appropriations_fen, f.appropriations_fen);
  EXPECT_EQ(r.lottery_grants_in_fen, f.lottery_grants_in_fen);
  EXPECT_EQ(r.transfers_in_fen, f.transfers_in_fen);
  EXPECT_EQ(r.transfers_out_fen, f.transfers_out_fen);
  EXPECT_EQ(r.spending_by_class, f.spending_by_class);
  EXPECT_EQ(r.spending_by_purpose, f.spending_by_purpose);
  EXPECT_EQ(r.grants_out_by_category, f.grants_out_by_category);
  std::map<std::string, std::tuple<int64_t, int64_t, int64_t>> mine, theirs;
  for (const auto& [program, regions] : r.paid_by_program_region)
    for (const auto& [region, p] : regions)
      mine[program + "/" + region] = {p.amount_fen, p.beneficiaries, p.households};
  for (const auto& [program, regions] : f.paid_by_program_region)
    for (const auto& [region, p] : regions)
      theirs[program + "/" + region] = {p.amount_fen, p.beneficiaries, p.households};
  EXPECT_EQ(mine, theirs);
  EXPECT_EQ(r.previous_year_income_fen, f.previous_year_income_fen);
  EXPECT_EQ(r.year_charitable_fen, f.year_charitable_fen);
  EXPECT_EQ(r.year_admin_fen, f.year_admin_fen);
  EXPECT_EQ(r.year_spending_fen, f.year_spending_fen);
  EXPECT_EQ(r.restricted_left, f.restricted_left);
}

Scopes EveryScope(const DomainState& s) {
  Scopes scopes;
  std::set<std::string> orgs, buckets;
  for (const auto& [id, f] : s.funds) {
    scopes.emplace_back("fund", id);
    orgs.insert(f.organisation);
    for (const std::string& b : f.buckets)
      if (b != kGeneralBucket) buckets.insert(b);
  }
  for (const std::string& o : orgs) scopes.emplace_back("org", o);
  for (const std::string& b : buckets) scopes.emplace_back("project", b);
  return scopes;
}

int ReconcileEveryReport(const LogSource& log, const Scopes& scopes,
                         const std::vector<std::string>& periods,
                         const std::function<void(const DisclosureReport&)>& also) {
  int reports = 0;
  for (const auto& [kind, id] : scopes) {
    for (const std::string& period : periods) {
      Result<DisclosureReport> r = ComputeDisclosure(log, log.size(), {kind, id, period}, nullptr);
      EXPECT_TRUE(r.ok()) << kind << " " << id << " " << period << ": " << r.status().ToString();
      if (!r.ok()) continue;
      EXPECT_TRUE(CheckReconciliation(*r).ok());
      Result<IndependentFigures> f = RecomputeFigures(log, log.size(), kind, id, period);
      EXPECT_TRUE(f.ok()) << f.status().ToString();
      if (f.ok()) ExpectSameFigures(*r, *f);
      if (also) also(*r);
      reports++;
    }
  }
  return reports;
}

}  // namespace fundledger::testing
