#include "replay/anomaly_checks.h"

#include <fmt/core.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>

#include "ledger/domain.h"
#include "projections/checked_totals.h"
#include "projections/china_calendar.h"

namespace fundledger {
namespace json = boost::json;
namespace {

int YearOf(int64_t timestamp_ms) { return ChinaDateOf(timestamp_ms).year; }

int64_t MillisOf(int year, unsigned month, unsigned day) {  // 00:00 in China
  return ChinaDayMs({year, month, day}).start_ms;
}

struct CharityYear {
  int64_t income_fen = 0;
  int64_t charitable_fen = 0;
  int64_t admin_fen = 0;
  int64_t spending_fen = 0;
  std::vector<uint64_t> entries;
};

// Walks the log as an observer of the domain, keeping what the checks need beyond its state.
class Scanner final : public EntryObserver {
 public:
  void OnApplied(const AppliedEntry& e, ApplyContext&) override {
    last_ms_ = std::max(last_ms_, e.timestamp_ms);
    for (const Posting& p : e.postings) {
      if (IsFundAccount(p.account) && p.posted_delta_fen != 0) {
        last_move_[p.account] = {e.timestamp_ms, e.index};
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
  std::map<std::string, std::pair<int64_t, uint64_t>> last_move_;     // account -> (time, entry)
  std::map<std::pair<std::string, int>, CharityYear> charity_years_;  // (fund, year)

 private:
  CheckedTotals totals_;
  void Add(std::string check, std::string subject, std::string detail,
           std::vector<uint64_t> entries) {
    findings.push_back(
        {std::move(check), std::move(subject), std::move(detail), std::move(entries)});
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
          {i});
    }
    if (f != nullptr && f->kind == fb::FundKind::lottery_welfare && !f->purposes.count(e.purpose)) {
      Add("lottery_misuse", e.fund_id,
          "lottery money spent on '" + e.purpose + "', not an approved category", {i});
    }
    if (f != nullptr && f->kind == fb::FundKind::charity) {
      CharityYear& y = charity_years_[{e.fund_id, YearOf(ts)}];
      totals_.Add(y.spending_fen, e.amount_fen, "the year's spending of", e.fund_id);
      if (e.class_ == fb::ExpenseClass::charitable)
        totals_.Add(y.charitable_fen, e.amount_fen, "the year's charitable spending of", e.fund_id);
      if (e.class_ == fb::ExpenseClass::admin)
        totals_.Add(y.admin_fen, e.amount_fen, "the year's admin costs of", e.fund_id);
      y.entries.push_back(i);
    }
  }
  void Look(const DomainState& s, uint64_t i, int64_t ts, const fb::DonationReceivedT& e) {
    const FundState* f = Fund(s, e.fund_id);
    if (f != nullptr && f->kind == fb::FundKind::charity) {
      CharityYear& y = charity_years_[{e.fund_id, YearOf(ts)}];
      totals_.Add(y.income_fen, e.amount_fen, "the year's income of", e.fund_id);
      y.entries.push_back(i);
    }
  }
  void Look(const DomainState& s, uint64_t i, int64_t, const fb::LotteryGrantAwardedT& e) {
    const FundState* f = Fund(s, e.from_fund_id);
    if (f != nullptr && !f->purposes.count(e.category)) {
      Add("lottery_misuse", e.from_fund_id,
          "grant of " + FormatFen(e.amount_fen) + " yuan for '" + e.category +
              "', not an approved category",
          {i});
    }
    if (e.from_bucket != kGeneralBucket && e.from_bucket != e.category) {
      Add("restricted_misuse", e.from_fund_id,
          "granted from restricted bucket '" + e.from_bucket + "'", {i});
    }
  }
  void Look(const DomainState& s, uint64_t i, int64_t, const fb::TransferredBetweenFundsT& e) {
    const FundState* f = Fund(s, e.from_fund_id);
    if (f != nullptr &&
        (f->kind == fb::FundKind::subsidy || f->kind == fb::FundKind::lottery_welfare)) {
      Add("transfer_out_of_fund", e.from_fund_id,
          FormatFen(e.amount_fen) + " yuan moved to fund '" + e.to_fund_id +
              "' out of the dedicated account",
          {i});
    }
    if (e.from_bucket != kGeneralBucket && e.to_bucket != e.from_bucket) {
      Add("restricted_misuse", e.from_fund_id,
          "restricted bucket '" + e.from_bucket + "' moved to '" + e.to_fund_id + "/" +
              e.to_bucket + "'",
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
          {i});
    }
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
      int32_t first_day = FirstDayOf(l.period);
      if (death != 0 && death < first_day) {
        out.push_back({"paid_after_death",
                       ben_id,
                       "paid " + where + "; died on " + FormatDate(death),
                       {death_index, p.prepared, p.decided}});
      } else {
        fb::BeneficiaryStatus st = ben.StatusOn(first_day);
        if (st == fb::BeneficiaryStatus::suspended || st == fb::BeneficiaryStatus::exited) {
          uint64_t change = 0;
          for (const StatusChange& c : ben.statuses) {
            if (c.effective_date <= first_day) change = c.index;
          }
          out.push_back({"paid_while_suspended",
                         ben_id,
                         "paid " + where + " while " + fb::EnumNameBeneficiaryStatus(st),
                         {change, p.prepared, p.decided}});
        }
      }
      auto prog = s.programs.find(s.names[l.program]);
      if (prog == s.programs.end()) continue;
      int64_t age = MonthIndex(l.period) - MonthIndex(ben.birth_month);
      if ((prog->second.age_min_years > 0 && age < int64_t{prog->second.age_min_years} * 12) ||
          (prog->second.age_max_years > 0 && age > int64_t{prog->second.age_max_years} * 12)) {
        out.push_back({"paid_beyond_age_limit",
                       ben_id,
                       "paid " + where + " at age " + std::to_string(age / 12),
                       {ben.registered_index, p.prepared, p.decided}});
      }
      const StandardTerm* term = prog->second.TermAt(l.period);
      if (term != nullptr && l.amount_fen > term->standard_fen) {
        out.push_back({"above_standard",
                       ben_id,
                       "paid " + FormatFen(l.amount_fen) + " yuan " + where + ", standard " +
                           FormatFen(term->standard_fen),
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
                     "one ID number paid as " + list + " in regions " + rs, entries});
    } else {
      out.push_back(
          {"same_person_two_records", paid_ids.front(), "one ID number paid as " + list, entries});
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
    out.push_back({"shared_bank_account", ids.front(),
                   "one bank account used by " + list + " of " + std::to_string(households.size()) +
                       " households",
                   entries});
  }
}

// Fund buckets holding money untouched for more than `idle_days` before `now`.
void IdleMoney(const DomainState& s, const Scanner& scanner, int idle_days, int64_t now,
               std::vector<Finding>& out) {
  for (const auto& [account, b] : s.balances) {
    if (!IsFundAccount(account) || b.posted_fen <= 0) continue;
    auto moved = scanner.last_move_.find(account);
    if (moved == scanner.last_move_.end()) continue;
    int64_t days = (now - moved->second.first) / kDayMs;
    if (days > idle_days) {
      out.push_back(
          {"idle_balance",
           account.substr(5),
           FormatFen(b.posted_fen) + " yuan untouched for " + std::to_string(days) + " days",
           {moved->second.second}});
    }
  }
}

// fen * factor for a ratio test of a charity's year; an overflow (an imported log's sums) is a
// Corruption naming the year's last entry.
Result<int64_t> Times(int64_t fen, int64_t factor, const std::string& fund, int year,
                      const CharityYear& y) {
  Result<Amount> product = Amount::Fen(fen).Times(factor);
  if (product.ok()) return product->fen();
  return Corruption("entry " + std::to_string(y.entries.empty() ? 0 : y.entries.back()) + ": " +
                    fund + "'s figures for " + std::to_string(year) +
                    " are beyond what a 64-bit count of fen can compare");
}

// Charities: 70% of last year's income on charitable work; admin at most 10% of spending.
Status CharityRatios(const Scanner& scanner, int64_t now, std::vector<Finding>& out) {
  for (const auto& [key, y] : scanner.charity_years_) {
    const auto& [fund, year] = key;
    auto prev = scanner.charity_years_.find({fund, year - 1});
    if (prev != scanner.charity_years_.end() && prev->second.income_fen > 0 &&
        year < YearOf(now) + 1 && MillisOf(year + 1, 1, 1) <= now) {
      FL_ASSIGN_OR_RETURN(int64_t charitable, Times(y.charitable_fen, 10, fund, year, y));
      FL_ASSIGN_OR_RETURN(int64_t income, Times(prev->second.income_fen, 7, fund, year, y));
      if (charitable < income) {
        std::vector<uint64_t> entries = prev->second.entries;
        entries.insert(entries.end(), y.entries.begin(), y.entries.end());
        out.push_back({"charitable_below_70pct", fund,
                       std::to_string(year) + ": charitable spending " +
                           FormatFen(y.charitable_fen) + " yuan is below 70% of " +
                           std::to_string(year - 1) + " income " +
                           FormatFen(prev->second.income_fen),
                       entries});
      }
    }
    if (y.spending_fen <= 0) continue;
    FL_ASSIGN_OR_RETURN(int64_t admin, Times(y.admin_fen, 10, fund, year, y));
    if (admin > y.spending_fen) {
      FL_ASSIGN_OR_RETURN(int64_t percent, Times(y.admin_fen, 100, fund, year, y));
      out.push_back({"admin_above_10pct", fund,
                     std::to_string(year) + ": admin costs " + FormatFen(y.admin_fen) + " of " +
                         FormatFen(y.spending_fen) + " yuan spent (" +
                         std::to_string(percent / y.spending_fen) + "%)",
                     y.entries});
    }
  }
  return Status::Ok();
}

// Disclosures: quarterly within 3 months of the last one (or of the first donation), and the
// annual one for year Y by May 31 of Y+1.
void DisclosureDeadlines(const DomainState& s, const Scanner& scanner, int64_t now,
                         std::vector<Finding>& out) {
  for (const auto& [id, f] : s.funds) {
    if (f.kind != fb::FundKind::charity) continue;
    uint64_t first_entry = 0;
    std::set<int> active_years;
    for (const auto& [key, y] : scanner.charity_years_) {
      if (key.first != id || y.entries.empty()) continue;
      active_years.insert(key.second);
      first_entry = first_entry == 0 ? y.entries.front() : std::min(first_entry, y.entries.front());
    }
    if (active_years.empty()) continue;
    int64_t last_quarterly = MillisOf(*active_years.begin(), 1, 1);
    uint64_t last_index = first_entry;
    std::set<std::string> annual;
    for (const Disclosure& d : s.disclosures) {
      if (d.fund != id && !(d.fund.empty() && d.organisation == f.organisation)) continue;
      if (d.schedule_item == "quarterly" && d.timestamp_ms > last_quarterly) {
        last_quarterly = d.timestamp_ms;
        last_index = d.index;
      }
      if (d.schedule_item == "annual") annual.insert(d.period);
    }
    if (now - last_quarterly > 92 * kDayMs) {
      out.push_back({"disclosure_overdue",
                     id,
                     "no quarterly project disclosure for " +
                         std::to_string((now - last_quarterly) / kDayMs) + " days",
                     {last_index}});
    }
    for (int year : active_years) {
      if (now >= MillisOf(year + 1, 6, 1) && !annual.count(std::to_string(year))) {
        out.push_back({"disclosure_overdue",
                       id,
                       "the annual report for " + std::to_string(year) + " was due by " +
                           std::to_string(year + 1) + "-05-31",
                       {first_entry}});
      }
    }
  }
}

}  // namespace

Result<std::vector<Finding>> RunAnomalyChecks(const LogSource& source,
                                              const AnomalyOptions& options) {
  Scanner scanner;
  Domain domain({&scanner});
  ApplyContext context;
  Status walked = source.ScanEntries(0, source.size(), [&](uint64_t i, ByteView bytes) -> Status {
    FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
    if (IsDomainEvent(e.event_type)) {
      FL_ASSIGN_OR_RETURN(DomainEvent ev, DecodeEvent(e.event_type, e.payload));
      domain.Read([&](const DomainState& s) {
        scanner.See(s, i, e.timestamp_ms, ev);
        return 0;
      });
      FL_RETURN_IF_ERROR(scanner.failure());
    }
    return domain.ApplyCommitted(i, bytes, context);
  });
  if (!walked.ok()) return walked;
  std::vector<Finding> out = std::move(scanner.findings);
  const int64_t now = scanner.last_ms_;
  Status ratios = domain.Read([&](const DomainState& s) -> Status {
    PaymentChecks(s, out);
    IdleMoney(s, scanner, options.idle_days, now, out);
    FL_RETURN_IF_ERROR(CharityRatios(scanner, now, out));
    DisclosureDeadlines(s, scanner, now, out);
    return Status::Ok();
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
                               {"entries", std::move(entries)}});
  }
  return json::serialize(json::object{{"findings", std::move(arr)}, {"count", findings.size()}}) +
         "\n";
}

std::string FindingsCsv(const std::vector<Finding>& findings) {
  auto field = [](const std::string& v) {
    if (v.find_first_of(",\"\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  std::string out = "check,subject,detail,entries\n";
  for (const Finding& f : findings) {
    std::string entries;
    for (uint64_t e : f.entries) entries += (entries.empty() ? "" : " ") + std::to_string(e);
    out += field(f.check) + "," + field(f.subject) + "," + field(f.detail) + "," + entries + "\n";
  }
  return out;
}

std::string FindingsTable(const std::vector<Finding>& findings) {
  std::string out = fmt::format("{:<26} {:<24} {}\n", "check", "subject", "detail (entries)");
  for (const Finding& f : findings) {
    std::string entries;
    for (uint64_t e : f.entries) entries += (entries.empty() ? "" : ", ") + std::to_string(e);
    out += fmt::format("{:<26} {:<24} {} ({})\n", f.check, f.subject, f.detail, entries);
  }
  out += fmt::format("{} finding(s)\n", findings.size());
  return out;
}

}  // namespace fundledger
