#include "replay/anomaly_checks.h"

#include <fmt/core.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "ledger/domain.h"
#include "projections/business_date.h"
#include "projections/checked_totals.h"
#include "projections/china_calendar.h"
#include "projections/disclosure.h"

namespace fundledger {
namespace json = boost::json;
namespace {

int YearOf(int64_t timestamp_ms) { return ChinaDateOf(timestamp_ms).year; }

int64_t MillisOf(int year, unsigned month, unsigned day) {  // 00:00 in China
  return ChinaDayMs({year, month, day}).start_ms;
}

// The longest quarter: how long a quarterly disclosure stays current.
constexpr int64_t kQuarterMs = 92 * kDayMs;

struct CharityYear {
  int64_t income_fen = 0;
  int64_t charitable_fen = 0;
  int64_t admin_fen = 0;
  int64_t spending_fen = 0;
  std::vector<uint64_t> entries;
};

// What a lottery fund spent in a year, and how much of it on elderly services.
struct LotteryYear {
  int64_t spent_fen = 0;
  int64_t elderly_fen = 0;
  std::vector<uint64_t> entries;
};

// One (person, program, month): what was paid net, and the largest line that paid it.
struct SlotPaid {
  int64_t net_fen = 0;
  int64_t line_max_fen = 0;
  std::vector<uint64_t> entries;
};
using SlotId = std::tuple<std::string, std::string, int32_t>;  // person, program, month

// What a later Reversal of an entry takes back beyond its postings.
struct Reversible {
  std::string fund, expense_class, category;  // an expense or a grant
  std::optional<SlotId> slot;                 // a reissue or a recovery naming its line
  int64_t amount_fen = 0;                     // as it moved money out of a fund (+) or in (-)
};

// Walks the log as an observer of the domain, keeping what the checks need beyond its state.
class Scanner final : public EntryObserver {
 public:
  explicit Scanner(const AnomalyOptions& options) : options_(options) {}
  void OnApplied(const AppliedEntry& e, ApplyContext&) override {
    last_ms_ = std::max(last_ms_, e.timestamp_ms);
    for (const Posting& p : e.postings) {
      if (IsFundAccount(p.account) && p.posted_delta_fen != 0) {
        last_move_[std::string(p.account)] = {e.timestamp_ms, e.index};
      }
    }
  }

  // Looks at each event before the domain applies it (state before the entry).
  void See(const DomainState& s, uint64_t index, int64_t ts, const DomainEvent& event) {
    totals_.AtEntry(index);
    std::visit([&](const auto& ev) { Look(s, index, ts, ev); }, event);
  }
  // The first sum that would overflow 64 bits (an imported log), naming its entry.
  Status failure() const override { return totals_.failure(); }

  std::vector<Finding> findings;
  int64_t last_ms_ = 0;
  std::map<std::string, std::pair<int64_t, uint64_t>> last_move_;       // account -> (time, entry)
  std::map<std::pair<std::string, int>, CharityYear> charity_years_;    // (fund, year)
  std::map<std::string, std::pair<int64_t, uint64_t>> first_activity_;  // charity -> (time, entry)
  std::map<std::pair<std::string, int>, LotteryYear> lottery_years_;    // (fund, year)
  std::map<SlotId, SlotPaid> slots_;

 private:
  const AnomalyOptions& options_;
  CheckedTotals totals_;
  std::map<uint64_t, Reversible> reversible_;  // by entry index

  CharityYear& Charity(const std::string& fund, uint64_t i, int64_t ts) {
    first_activity_.emplace(fund, std::make_pair(ts, i));
    CharityYear& y = charity_years_[{fund, YearOf(ts)}];
    y.entries.push_back(i);
    return y;
  }
  // A charity's spending (negative: taken back) of class `cls` ("payments" for rolls).
  void CharitySpent(const std::string& fund, uint64_t i, int64_t ts, const std::string& cls,
                    int64_t fen) {
    CharityYear& y = Charity(fund, i, ts);
    totals_.Add(y.spending_fen, fen, "the year's spending of", fund);
    if (cls == "charitable" || cls == "payments")
      totals_.Add(y.charitable_fen, fen, "the year's charitable spending of", fund);
    if (cls == "admin") totals_.Add(y.admin_fen, fen, "the year's admin costs of", fund);
  }
  // A lottery fund's spending (negative: taken back) for `category`.
  void LotterySpent(const std::string& fund, uint64_t i, int64_t ts, const std::string& category,
                    int64_t fen) {
    LotteryYear& y = lottery_years_[{fund, YearOf(ts)}];
    totals_.Add(y.spent_fen, fen, "the year's lottery spending of", fund);
    if (category.rfind(options_.elderly_category_prefix, 0) == 0)
      totals_.Add(y.elderly_fen, fen, "the year's elderly services of", fund);
    y.entries.push_back(i);
  }
  void SlotMoved(const SlotId& slot, uint64_t i, int64_t fen, int64_t line_fen) {
    SlotPaid& p = slots_[slot];
    totals_.Add(p.net_fen, fen, "the net paid for", std::get<0>(slot));
    p.line_max_fen = std::max(p.line_max_fen, line_fen);
    p.entries.push_back(i);
  }
  SlotId Slot(const DomainState& s, const BatchLine& l) {
    return {s.names[l.beneficiary], s.names[l.program], l.period};
  }
  const BatchLine* Line(const DomainState& s, const std::string& batch, uint32_t line_no,
                        const BatchState** b = nullptr) {
    auto it = s.batches.find(batch);
    if (it == s.batches.end()) return nullptr;
    const BatchLine* line = it->second.FindLine(line_no);
    if (line != nullptr && b != nullptr) *b = &it->second;
    return line;
  }
  fb::FundKind KindOf(const DomainState& s, const std::string& fund) {
    const FundState* f = Fund(s, fund);
    return f == nullptr ? fb::FundKind::trust : f->kind;
  }
  void Add(std::string check, std::string subject, std::string detail, std::string detail_zh,
           std::vector<uint64_t> entries) {
    findings.push_back({std::move(check), std::move(subject), std::move(detail),
                        std::move(detail_zh), std::move(entries)});
  }
  const FundState* Fund(const DomainState& s, const std::string& id) {
    auto it = s.funds.find(id);
    return it == s.funds.end() ? nullptr : &it->second;
  }

  void Look(const DomainState& s, uint64_t i, int64_t ts, const fb::ExpensedT& e) {
    const FundState* f = Fund(s, e.fund_id);
    if (e.bucket != kGeneralBucket && e.bucket != e.purpose) {
      Add("restricted_misuse", e.fund_id,
          "spent " + FormatFen(e.amount_fen) + " yuan from bucket '" + e.bucket + "' on '" +
              e.purpose + "'",
          "从限定用途分户“" + e.bucket + "”支出 " + FormatFen(e.amount_fen) + " 元用于“" +
              e.purpose + "”",
          {i});
    }
    if (f != nullptr && f->kind == fb::FundKind::lottery_welfare && !f->purposes.count(e.purpose)) {
      Add("lottery_misuse", e.fund_id,
          "lottery money spent on '" + e.purpose + "', not an approved category",
          "彩票公益金用于“" + e.purpose + "”，不是批准的用途类别", {i});
    }
    std::string cls = fb::EnumNameExpenseClass(e.class_);
    if (f != nullptr && f->kind == fb::FundKind::charity)
      CharitySpent(e.fund_id, i, ts, cls, e.amount_fen);
    if (f != nullptr && f->kind == fb::FundKind::lottery_welfare)
      LotterySpent(e.fund_id, i, ts, e.purpose, e.amount_fen);
    reversible_[i] = {e.fund_id, cls, e.purpose, std::nullopt, e.amount_fen};
  }
  void Look(const DomainState& s, uint64_t i, int64_t ts, const fb::DonationReceivedT& e) {
    const FundState* f = Fund(s, e.fund_id);
    if (f != nullptr && f->kind == fb::FundKind::charity) {
      CharityYear& y = Charity(e.fund_id, i, ts);
      totals_.Add(y.income_fen, e.amount_fen, "the year's income of", e.fund_id);
    }
    reversible_[i] = {e.fund_id, "income", "", std::nullopt, -e.amount_fen};
  }
  void Look(const DomainState& s, uint64_t i, int64_t ts, const fb::LotteryGrantAwardedT& e) {
    const FundState* f = Fund(s, e.from_fund_id);
    if (f != nullptr && f->kind == fb::FundKind::lottery_welfare) {
      LotterySpent(e.from_fund_id, i, ts, e.category, e.amount_fen);
      reversible_[i] = {e.from_fund_id, "grant", e.category, std::nullopt, e.amount_fen};
    }
    if (f != nullptr && !f->purposes.count(e.category)) {
      Add("lottery_misuse", e.from_fund_id,
          "grant of " + FormatFen(e.amount_fen) + " yuan for '" + e.category +
              "', not an approved category",
          "资助 " + FormatFen(e.amount_fen) + " 元用于“" + e.category + "”，不是批准的用途类别",
          {i});
    }
    if (e.from_bucket != kGeneralBucket && e.from_bucket != e.category) {
      Add("restricted_misuse", e.from_fund_id,
          "granted from restricted bucket '" + e.from_bucket + "'",
          "从限定用途分户“" + e.from_bucket + "”发放资助", {i});
    }
  }
  void Look(const DomainState& s, uint64_t i, int64_t, const fb::TransferredBetweenFundsT& e) {
    const FundState* f = Fund(s, e.from_fund_id);
    if (f != nullptr &&
        (f->kind == fb::FundKind::subsidy || f->kind == fb::FundKind::lottery_welfare)) {
      Add("transfer_out_of_fund", e.from_fund_id,
          FormatFen(e.amount_fen) + " yuan moved to fund '" + e.to_fund_id +
              "' out of the dedicated account",
          FormatFen(e.amount_fen) + " 元从专户转到资金“" + e.to_fund_id + "”", {i});
    }
    if (e.from_bucket != kGeneralBucket && e.to_bucket != e.from_bucket) {
      Add("restricted_misuse", e.from_fund_id,
          "restricted bucket '" + e.from_bucket + "' moved to '" + e.to_fund_id + "/" +
              e.to_bucket + "'",
          "限定用途分户“" + e.from_bucket + "”的资金转到“" + e.to_fund_id + "/" + e.to_bucket + "”",
          {i});
    }
  }
  void Look(const DomainState&, uint64_t i, int64_t, const fb::DisbursementBatchPreparedT& e) {
    if (e.bucket == kGeneralBucket || e.chunk != 0) return;
    std::set<std::string> programs(e.program_ids.begin(), e.program_ids.end());
    programs.erase(e.bucket);
    for (const std::string& p : programs) {
      Add("restricted_misuse", e.fund_id,
          "roll '" + e.batch_id + "' pays '" + p + "' from restricted bucket '" + e.bucket + "'",
          "名册 " + e.batch_id + " 从限定用途分户“" + e.bucket + "”发放“" + p + "”", {i});
    }
  }
  // Payments per slot, a charity's roll payments (charitable spending), a lottery fund's rolls.
  void Look(const DomainState& s, uint64_t i, int64_t ts, const fb::DisbursementBatchApprovedT& e) {
    auto b = s.batches.find(e.batch_id);
    if (b == s.batches.end()) return;
    for (const BatchLine& l : b->second.lines) {
      SlotMoved(Slot(s, l), i, l.amount_fen, l.amount_fen);
      if (KindOf(s, b->second.fund) == fb::FundKind::lottery_welfare)
        LotterySpent(b->second.fund, i, ts, s.names[l.program], l.amount_fen);
    }
    if (KindOf(s, b->second.fund) == fb::FundKind::charity)
      CharitySpent(b->second.fund, i, ts, "payments", b->second.total_fen);
  }
  void Look(const DomainState& s, uint64_t i, int64_t ts, const fb::PaymentReturnedT& e) {
    const BatchState* b = nullptr;
    const BatchLine* l = Line(s, e.batch_id, e.line_no, &b);
    if (l == nullptr) return;
    SlotMoved(Slot(s, *l), i, -l->amount_fen, l->amount_fen);
    if (KindOf(s, b->fund) == fb::FundKind::charity)
      CharitySpent(b->fund, i, ts, "payments", -l->amount_fen);
  }
  void Look(const DomainState& s, uint64_t i, int64_t ts, const fb::PaymentReissuedT& e) {
    const BatchState* b = nullptr;
    const BatchLine* l = Line(s, e.batch_id, e.line_no, &b);
    if (l == nullptr) return;
    SlotMoved(Slot(s, *l), i, l->amount_fen, l->amount_fen);
    if (KindOf(s, b->fund) == fb::FundKind::charity)
      CharitySpent(b->fund, i, ts, "payments", l->amount_fen);
    reversible_[i] = {b->fund, "payments", "", Slot(s, *l), l->amount_fen};
  }
  void Look(const DomainState& s, uint64_t i, int64_t ts, const fb::RecoveredT& e) {
    std::optional<SlotId> slot;
    if (const BatchLine* l = Line(s, e.batch_id, e.line_no)) {
      slot = Slot(s, *l);
      SlotMoved(*slot, i, -e.amount_fen, l->amount_fen);
    }
    if (KindOf(s, e.fund_id) == fb::FundKind::charity)
      CharitySpent(e.fund_id, i, ts, "payments", -e.amount_fen);
    reversible_[i] = {e.fund_id, "payments", "", slot, -e.amount_fen};
  }
  // A reversal takes back what the entry paid, spent or received, in the reversal's year.
  void Look(const DomainState& s, uint64_t i, int64_t ts, const fb::ReversalT& e) {
    auto it = reversible_.find(e.entry_index);
    if (it == reversible_.end()) return;
    const Reversible& r = it->second;
    if (r.slot) SlotMoved(*r.slot, i, -r.amount_fen, 0);
    fb::FundKind kind = KindOf(s, r.fund);
    if (kind == fb::FundKind::charity && r.expense_class == "income") {
      CharityYear& y = Charity(r.fund, i, ts);
      totals_.Add(y.income_fen, r.amount_fen, "the year's income of", r.fund);
    } else if (kind == fb::FundKind::charity) {
      CharitySpent(r.fund, i, ts, r.expense_class, -r.amount_fen);
    }
    if (kind == fb::FundKind::lottery_welfare && r.expense_class != "income" && !r.slot)
      LotterySpent(r.fund, i, ts, r.category, -r.amount_fen);
  }
  template <typename T>
  void Look(const DomainState&, uint64_t, int64_t, const T&) {}
};

void PaymentChecks(const DomainState& s, std::vector<Finding>& out) {
  // Every paid line, with the entries that paid it.
  struct Paid {
    std::string batch;
    const BatchLine* line;
    uint64_t prepared, decided;
  };
  std::map<std::pair<std::string, int32_t>, std::vector<Paid>> by_person_month;
  std::map<std::string, std::vector<Paid>> by_person;
  for (const auto& [id, b] : s.batches) {
    if (b.status != BatchStatus::kApproved) continue;
    for (const BatchLine& l : b.lines) {
      if (l.state != LineState::kPaid && l.state != LineState::kReissued) continue;
      Paid p{id, &l, b.prepared_index, b.decided_index};
      by_person_month[{s.names[l.beneficiary], l.period}].push_back(p);
      by_person[s.names[l.beneficiary]].push_back(p);
    }
  }
  for (const auto& [ben_id, paid] : by_person) {
    auto b = s.beneficiaries.find(ben_id);
    if (b == s.beneficiaries.end()) continue;
    const BeneficiaryState& ben = b->second;
    int32_t death = ben.DeathDate();
    uint64_t death_index = 0;
    for (const StatusChange& c : ben.statuses) {
      if (c.status == fb::BeneficiaryStatus::deceased) death_index = c.index;
    }
    for (const Paid& p : paid) {
      const BatchLine& l = *p.line;
      std::string where = "'" + s.names[l.program] + "' for " + FormatMonth(l.period) +
                          " (batch '" + p.batch + "' line " + std::to_string(l.line_no) + ")";
      std::string where_zh = FormatMonth(l.period) + "“" + s.names[l.program] + "”（批次 " +
                             p.batch + " 第 " + std::to_string(l.line_no) + " 行）";
      int32_t first_day = FirstDayOf(l.period);
      if (death != 0 && death < first_day) {
        out.push_back({"paid_after_death",
                       ben_id,
                       "paid " + where + "; died on " + FormatDate(death),
                       "已于 " + FormatDate(death) + " 去世，仍发放 " + where_zh,
                       {death_index, p.prepared, p.decided}});
      } else {
        fb::BeneficiaryStatus st = ben.StatusOn(first_day);
        if (st == fb::BeneficiaryStatus::suspended || st == fb::BeneficiaryStatus::exited) {
          uint64_t change = 0;
          for (const StatusChange& c : ben.statuses) {
            if (c.effective_date <= first_day) change = c.index;
          }
          out.push_back(
              {"paid_while_suspended",
               ben_id,
               "paid " + where + " while " + fb::EnumNameBeneficiaryStatus(st),
               (st == fb::BeneficiaryStatus::suspended ? "人员暂停期间发放 " : "人员退出后发放 ") +
                   where_zh,
               {change, p.prepared, p.decided}});
        }
      }
      auto prog = s.programs.find(s.names[l.program]);
      if (prog == s.programs.end()) continue;
      // The rules' age band (ledger/README.md, "Eligibility"): [age_min, age_max) in completed
      // years on the period's first day, past age_max only through a recorded extension.
      int32_t age = ben.AgeOn(first_day);
      bool extended = false;
      if (const EnrollmentTerms* enrolled = s.EnrollmentsOf(l.beneficiary, l.program)) {
        for (const EnrollmentTerm& t : *enrolled) {
          extended = extended || (t.Covers(l.period) && t.age_extension_to_month >= l.period);
        }
      }
      if ((prog->second.age_min_years > 0 && age < prog->second.age_min_years) ||
          (prog->second.age_max_years > 0 && age >= prog->second.age_max_years && !extended)) {
        out.push_back({"paid_beyond_age_limit",
                       ben_id,
                       "paid " + where + " at age " + std::to_string(age),
                       std::to_string(age) + " 岁时发放 " + where_zh + "，不符合年龄条件",
                       {ben.registered_index, p.prepared, p.decided}});
      }
      // Judged by the standard in force when the line was prepared, not by a later correction.
      const StandardTerm* term = prog->second.TermAt(l.period, p.prepared);
      if (term != nullptr && l.amount_fen > term->standard_fen) {
        out.push_back({"above_standard",
                       ben_id,
                       "paid " + FormatFen(l.amount_fen) + " yuan " + where + ", standard " +
                           FormatFen(term->standard_fen),
                       where_zh + "发放 " + FormatFen(l.amount_fen) + " 元，标准为 " +
                           FormatFen(term->standard_fen) + " 元",
                       {p.prepared, p.decided}});
      }
    }
  }
  for (const auto& [key, paid] : by_person_month) {
    for (size_t a = 0; a < paid.size(); ++a) {
      for (size_t b = a + 1; b < paid.size(); ++b) {
        const std::string& pa = s.names[paid[a].line->program];
        const std::string& pb = s.names[paid[b].line->program];
        auto x = s.programs.find(pa), y = s.programs.find(pb);
        bool excluded = (x != s.programs.end() && x->second.excludes.count(pb)) ||
                        (y != s.programs.end() && y->second.excludes.count(pa));
        if (excluded) {
          out.push_back({"excluded_combination",
                         key.first,
                         "paid both '" + pa + "' and '" + pb + "' for " + FormatMonth(key.second),
                         FormatMonth(key.second) + " 同时发放“" + pa + "”和“" + pb + "”",
                         {paid[a].decided, paid[b].decided}});
        }
      }
    }
  }
  // One person under several records, and one bank account across households.
  std::map<std::string, std::vector<std::string>> by_commitment, by_account;
  for (const auto& [id, b] : s.beneficiaries) {
    by_commitment[HashHex(b.id_commitment)].push_back(id);
    if (!b.bank_account_token.empty()) by_account[HexEncode(b.bank_account_token)].push_back(id);
  }
  for (const auto& [c, ids] : by_commitment) {
    if (ids.size() < 2) continue;
    std::vector<std::string> paid_ids;
    std::set<std::string> regions;
    std::vector<uint64_t> entries;
    for (const std::string& id : ids) {
      entries.push_back(s.beneficiaries.at(id).registered_index);
      if (by_person.count(id)) {
        paid_ids.push_back(id);
        regions.insert(s.beneficiaries.at(id).region);
        entries.push_back(by_person.at(id).front().decided);
      }
    }
    if (paid_ids.size() < 2) continue;
    std::string list;
    for (const std::string& id : paid_ids) list += (list.empty() ? "" : ", ") + id;
    if (regions.size() > 1) {
      std::string rs;
      for (const std::string& r : regions) rs += (rs.empty() ? "" : ", ") + r;
      out.push_back({"same_person_two_regions", paid_ids.front(),
                     "one ID number paid as " + list + " in regions " + rs,
                     "同一身份证号以 " + list + " 在地区 " + rs + " 领取", entries});
    } else {
      out.push_back({"same_person_two_records", paid_ids.front(), "one ID number paid as " + list,
                     "同一身份证号以 " + list + " 多条记录领取", entries});
    }
  }
  for (const auto& [token, ids] : by_account) {
    std::set<std::string> households;
    std::vector<uint64_t> entries;
    for (const std::string& id : ids) {
      households.insert(s.beneficiaries.at(id).household);
      entries.push_back(s.beneficiaries.at(id).registered_index);
    }
    if (households.size() < 2) continue;
    std::string list;
    for (const std::string& id : ids) list += (list.empty() ? "" : ", ") + id;
    out.push_back(
        {"shared_bank_account", ids.front(),
         "one bank account used by " + list + " of " + std::to_string(households.size()) +
             " households",
         "同一银行账户由 " + std::to_string(households.size()) + " 户的 " + list + " 共用",
         entries});
  }
}

// Fund buckets holding money untouched for more than `idle_days` before `now`.
void IdleMoney(const DomainState& s, const Scanner& scanner, int idle_days, int64_t now,
               std::vector<Finding>& out) {
  for (const auto& [account, b] : s.accounts.SortedByName()) {
    if (!IsFundAccount(account) || b->posted_fen <= 0) continue;
    auto moved = scanner.last_move_.find(std::string(account));
    if (moved == scanner.last_move_.end()) continue;
    int64_t days = (now - moved->second.first) / kDayMs;
    if (days > idle_days) {
      out.push_back(
          {"idle_balance",
           std::string(account.substr(5)),
           FormatFen(b->posted_fen) + " yuan untouched for " + std::to_string(days) + " days",
           FormatFen(b->posted_fen) + " 元已 " + std::to_string(days) + " 天没有变动",
           {moved->second.second}});
    }
  }
}

// Net paid per (person, program, month) above one line's amount; a person's net received from a
// program, or a fund bucket, below zero.
void SlotChecks(const DomainState& s, const Scanner& scanner, std::vector<Finding>& out) {
  std::map<std::pair<std::string, std::string>, SlotPaid> per_program;
  for (const auto& [slot, paid] : scanner.slots_) {
    const auto& [person, program, month] = slot;
    if (paid.net_fen > paid.line_max_fen) {
      out.push_back({"duplicate_payment", person,
                     "net paid " + FormatFen(paid.net_fen) + " yuan of '" + program + "' for " +
                         FormatMonth(month) + ", one line is " + FormatFen(paid.line_max_fen),
                     FormatMonth(month) + "“" + program + "”净发放 " + FormatFen(paid.net_fen) +
                         " 元，而一行为 " + FormatFen(paid.line_max_fen) + " 元",
                     paid.entries});
    }
    SlotPaid& p = per_program[{person, program}];
    p.net_fen += paid.net_fen;  // each slot's sum was checked; a person's few slots fit
    p.entries.insert(p.entries.end(), paid.entries.begin(), paid.entries.end());
  }
  for (const auto& [key, paid] : per_program) {
    if (paid.net_fen >= 0) continue;
    out.push_back({"negative_balance", key.first,
                   "net received " + FormatFen(paid.net_fen) + " yuan from '" + key.second + "'",
                   "从“" + key.second + "”净收到 " + FormatFen(paid.net_fen) + " 元",
                   paid.entries});
  }
  for (const auto& [account, b] : s.accounts.SortedByName()) {
    if (!IsFundAccount(account) || b->posted_fen >= 0) continue;
    auto moved = scanner.last_move_.find(std::string(account));
    out.push_back({"negative_balance",
                   std::string(account.substr(5)),
                   "the fund bucket holds " + FormatFen(b->posted_fen) + " yuan",
                   "资金分户余额为 " + FormatFen(b->posted_fen) + " 元",
                   {moved == scanner.last_move_.end() ? 0 : moved->second.second}});
  }
}

// fen * factor for a ratio test of a year; an overflow (an imported log's sums) is a
// Corruption naming the year's last entry.
Result<int64_t> Times(int64_t fen, int64_t factor, const std::string& fund, int year,
                      const std::vector<uint64_t>& entries) {
  Result<Amount> product = Amount::Fen(fen).Times(factor);
  if (product.ok()) return product->fen();
  return Corruption("entry " + std::to_string(entries.empty() ? 0 : entries.back()) + ": " + fund +
                    "'s figures for " + std::to_string(year) +
                    " are beyond what a 64-bit count of fen can compare");
}

// Charities: 70% of last year's income on charitable work in every year that has ended since
// the first activity (a year with no activity at all too); admin at most 10% of spending.
Status CharityRatios(const Scanner& scanner, int64_t now, std::vector<Finding>& out) {
  const CharityYear kNothing;
  for (const auto& [fund, first] : scanner.first_activity_) {
    for (int year = YearOf(first.first) + 1; MillisOf(year + 1, 1, 1) <= now; ++year) {
      auto prev = scanner.charity_years_.find({fund, year - 1});
      if (prev == scanner.charity_years_.end() || prev->second.income_fen <= 0) continue;
      auto it = scanner.charity_years_.find({fund, year});
      const CharityYear& y = it == scanner.charity_years_.end() ? kNothing : it->second;
      std::vector<uint64_t> entries = prev->second.entries;
      entries.insert(entries.end(), y.entries.begin(), y.entries.end());
      FL_ASSIGN_OR_RETURN(int64_t charitable, Times(y.charitable_fen, 10, fund, year, entries));
      FL_ASSIGN_OR_RETURN(int64_t income, Times(prev->second.income_fen, 7, fund, year, entries));
      if (charitable >= income) continue;
      out.push_back(
          {"charitable_below_70pct", fund,
           std::to_string(year) + ": charitable spending " + FormatFen(y.charitable_fen) +
               " yuan (" +
               PercentText(y.charitable_fen, prev->second.income_fen, PercentLimit::kAtLeast) +
               ") is below 70% of " + std::to_string(year - 1) + " income " +
               FormatFen(prev->second.income_fen),
           std::to_string(year) + " 年慈善活动支出 " + FormatFen(y.charitable_fen) + " 元（" +
               PercentText(y.charitable_fen, prev->second.income_fen, PercentLimit::kAtLeast) +
               "），低于 " + std::to_string(year - 1) + " 年收入 " +
               FormatFen(prev->second.income_fen) + " 元的 70%",
           entries});
    }
  }
  for (const auto& [key, y] : scanner.charity_years_) {
    const auto& [fund, year] = key;
    if (y.spending_fen <= 0) continue;
    FL_ASSIGN_OR_RETURN(int64_t admin, Times(y.admin_fen, 10, fund, year, y.entries));
    if (admin <= y.spending_fen) continue;
    out.push_back({"admin_above_10pct", fund,
                   std::to_string(year) + ": admin costs " + FormatFen(y.admin_fen) + " of " +
                       FormatFen(y.spending_fen) + " yuan spent (" +
                       PercentText(y.admin_fen, y.spending_fen, PercentLimit::kAtMost) + ")",
                   std::to_string(year) + " 年管理费用 " + FormatFen(y.admin_fen) + " 元，占支出 " +
                       FormatFen(y.spending_fen) + " 元的 " +
                       PercentText(y.admin_fen, y.spending_fen, PercentLimit::kAtMost),
                   y.entries});
  }
  return Status::Ok();
}

// A quarterly disclosure published at `published_ms` for a period that ended no more than a
// quarter before: a report for a stale period does not meet a current obligation, nor does an
// interim one (published before its period ended).
bool CurrentQuarterly(const Disclosure& d) {
  if (d.schedule_item != "quarterly") return false;
  Result<std::pair<int64_t, int64_t>> bounds = PeriodBounds(d.period);
  return bounds.ok() && bounds->second >= d.timestamp_ms - kQuarterMs &&
         bounds->second <= d.timestamp_ms;
}
// An annual disclosure published after its year ended (not an interim one).
bool FinalAnnual(const Disclosure& d) {
  if (d.schedule_item != "annual") return false;
  Result<std::pair<int64_t, int64_t>> bounds = PeriodBounds(d.period);
  return bounds.ok() && bounds->second <= d.timestamp_ms;
}

// Disclosures of each charity, from its first activity: a current quarterly one at least every
// quarter, and the annual one for each year that has ended by May 31 of the next.
void DisclosureDeadlines(const DomainState& s, const Scanner& scanner, int64_t now,
                         std::vector<Finding>& out) {
  for (const auto& [id, first] : scanner.first_activity_) {
    auto f = s.funds.find(id);
    if (f == s.funds.end()) continue;
    int64_t last_quarterly = first.first;
    uint64_t last_index = first.second;
    std::set<std::string> annual;
    for (const Disclosure& d : s.disclosures) {
      if (d.fund != id && !(d.fund.empty() && d.organisation == f->second.organisation)) continue;
      if (CurrentQuarterly(d) && d.timestamp_ms > last_quarterly) {
        last_quarterly = d.timestamp_ms;
        last_index = d.index;
      }
      if (FinalAnnual(d)) annual.insert(d.period);
    }
    if (now - last_quarterly > kQuarterMs) {
      out.push_back(
          {"disclosure_overdue",
           id,
           "no current quarterly project disclosure for " +
               std::to_string((now - last_quarterly) / kDayMs) + " days",
           "已 " + std::to_string((now - last_quarterly) / kDayMs) + " 天没有当季的项目信息公开",
           {last_index}});
    }
    for (int year = YearOf(first.first); MillisOf(year + 1, 6, 1) <= now; ++year) {
      if (annual.count(std::to_string(year))) continue;
      out.push_back(
          {"disclosure_overdue",
           id,
           "the annual report for " + std::to_string(year) + " was due by " +
               std::to_string(year + 1) + "-05-31",
           std::to_string(year) + " 年度报告应于 " + std::to_string(year + 1) + "-05-31 前公开",
           {first.second}});
    }
  }
}

// Lottery funds: the elderly-services share of each year that has ended, and the yearly
// announcement by June 30 of the next year.
Status LotteryChecks(const DomainState& s, const Scanner& scanner, const AnomalyOptions& options,
                     int64_t now, std::vector<Finding>& out) {
  for (const auto& [key, y] : scanner.lottery_years_) {
    const auto& [fund, year] = key;
    if (MillisOf(year + 1, 1, 1) > now) continue;
    FL_ASSIGN_OR_RETURN(int64_t elderly, Times(y.elderly_fen, 100, fund, year, y.entries));
    FL_ASSIGN_OR_RETURN(int64_t spent,
                        Times(y.spent_fen, options.lottery_elderly_pct_min, fund, year, y.entries));
    if (y.spent_fen > 0 && elderly < spent) {
      out.push_back({"lottery_elderly_below_55pct", fund,
                     std::to_string(year) + ": " + FormatFen(y.elderly_fen) + " of " +
                         FormatFen(y.spent_fen) + " yuan to elderly services (" +
                         PercentText(y.elderly_fen, y.spent_fen, PercentLimit::kAtLeast) +
                         "), under " + std::to_string(options.lottery_elderly_pct_min) + "%",
                     std::to_string(year) + " 年用于养老服务 " + FormatFen(y.elderly_fen) +
                         " 元，占支出 " + FormatFen(y.spent_fen) + " 元的 " +
                         PercentText(y.elderly_fen, y.spent_fen, PercentLimit::kAtLeast) +
                         "，低于 " + std::to_string(options.lottery_elderly_pct_min) + "%",
                     y.entries});
    }
    if (MillisOf(year + 1, 7, 1) > now) continue;
    // Copies: clang 14 cannot capture a structured binding.
    const std::string fund_id = fund, period = std::to_string(year);
    bool announced = std::any_of(s.disclosures.begin(), s.disclosures.end(), [&](const auto& d) {
      return d.fund == fund_id && d.period == period;
    });
    if (!announced) {
      out.push_back({"lottery_announcement_missing",
                     fund,
                     "no announcement of " + std::to_string(year) + "'s lottery money by " +
                         std::to_string(year + 1) + "-06-30",
                     std::to_string(year + 1) + "-06-30 前没有公告 " + std::to_string(year) +
                         " 年彩票公益金的使用情况",
                     {y.entries.front()}});
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Finding>> RunAnomalyChecks(const LogSource& source,
                                              const AnomalyOptions& options) {
  const int64_t now = options.as_of_ms != kAsOfNow
                          ? options.as_of_ms
                          : std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  Scanner scanner(options);
  Domain domain({&scanner});
  ApplyContext context;
  bool after = false;  // past the instant: timestamps never decrease, so nothing later counts
  const uint64_t end = std::min(source.size(), options.entries_max);
  Status walked = source.ScanEntries(0, end, [&](uint64_t i, ByteView bytes) -> Status {
    FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
    after = after || e.timestamp_ms > now;
    if (after) return Status::Ok();
    if (IsDomainEvent(e.event_type)) {
      FL_ASSIGN_OR_RETURN(DomainEvent ev, DecodeEvent(e.event_type, e.payload));
      domain.Read([&](const DomainState& s) {
        scanner.See(s, i, BusinessTimeMs(ev, s, e.timestamp_ms), ev);  // business_date.h
        return 0;
      });
      FL_RETURN_IF_ERROR(scanner.failure());
    }
    return domain.ApplyCommitted(i, bytes, context);
  });
  if (!walked.ok()) return walked;
  std::vector<Finding> out = std::move(scanner.findings);
  Status ratios = domain.Read([&](const DomainState& s) -> Status {
    PaymentChecks(s, out);
    SlotChecks(s, scanner, out);
    IdleMoney(s, scanner, options.idle_days, now, out);
    FL_RETURN_IF_ERROR(CharityRatios(scanner, now, out));
    DisclosureDeadlines(s, scanner, now, out);
    return LotteryChecks(s, scanner, options, now, out);
  });
  if (!ratios.ok()) return ratios;
  for (Finding& f : out) {
    std::sort(f.entries.begin(), f.entries.end());
    f.entries.erase(std::unique(f.entries.begin(), f.entries.end()), f.entries.end());
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Finding& a, const Finding& b) { return a.check < b.check; });
  return out;
}

std::string FindingsJson(const std::vector<Finding>& findings) {
  json::array arr;
  for (const Finding& f : findings) {
    json::array entries;
    for (uint64_t e : f.entries) entries.emplace_back(e);
    arr.push_back(json::object{{"check", f.check},
                               {"subject", f.subject},
                               {"detail", f.detail},
                               {"detail_zh", f.detail_zh},
                               {"entries", std::move(entries)}});
  }
  return json::serialize(json::object{{"findings", std::move(arr)}, {"count", findings.size()}}) +
         "\n";
}

namespace {

// A finding's detail in `language` (its English one when no Chinese was written).
const std::string& DetailIn(const Finding& f, FindingsLanguage language) {
  return language == FindingsLanguage::kZh && !f.detail_zh.empty() ? f.detail_zh : f.detail;
}

std::string EntriesText(const Finding& f, std::string_view separator) {
  std::string out;
  for (uint64_t e : f.entries)
    out += (out.empty() ? "" : std::string(separator)) + std::to_string(e);
  return out;
}

}  // namespace

std::string FindingsCsv(const std::vector<Finding>& findings, FindingsLanguage language) {
  auto field = [](const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  const bool zh = language == FindingsLanguage::kZh;
  std::string out =
      zh ? "\xEF\xBB\xBF检查项,对象,说明,相关日志条目\n" : "check,subject,detail,entries\n";
  for (const Finding& f : findings) {
    out += field(f.check) + "," + field(f.subject) + "," + field(DetailIn(f, language)) + "," +
           EntriesText(f, " ") + "\n";
  }
  return out;
}

std::string FindingsTable(const std::vector<Finding>& findings, FindingsLanguage language) {
  const bool zh = language == FindingsLanguage::kZh;
  // fmt pads by display width: a Chinese heading's characters count two columns each.
  std::string out =
      fmt::format("{:<26} {:<24} {}\n", zh ? "检查项" : "check", zh ? "对象" : "subject",
                  zh ? "说明（相关日志条目）" : "detail (entries)");
  for (const Finding& f : findings) {
    const std::string entries = EntriesText(f, ", ");
    out += fmt::format("{:<26} {:<24} {}{}\n", f.check, f.subject, DetailIn(f, language),
                       zh ? "（" + entries + "）" : " (" + entries + ")");
  }
  out += zh ? fmt::format("共 {} 项\n", findings.size())
            : fmt::format("{} finding(s)\n", findings.size());
  return out;
}

}  // namespace fundledger
