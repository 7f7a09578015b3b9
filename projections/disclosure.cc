#include "projections/disclosure.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "ledger/domain.h"
#include "projections/business_date.h"
#include "projections/checked_totals.h"
#include "projections/china_calendar.h"

namespace fundledger {
namespace {

int64_t ChinaMidnightMs(int year, unsigned month) { return ChinaDayMs({year, month, 1}).start_ms; }

bool Publishable(fb::ProgramCategory c) {
  return c == fb::ProgramCategory::dibao || c == fb::ProgramCategory::tekun ||
         c == fb::ProgramCategory::temporary;
}

// The fund accounts in the report's scope: a fund of the scope (filled as funds open), or a
// lottery project's bucket in any fund.
class ScopeOfAccounts {
 public:
  explicit ScopeOfAccounts(const DisclosureScope& scope) : scope_(scope) {}
  bool Contains(std::string_view account) const {
    if (!IsFundAccount(account)) return false;
    size_t slash = account.find('/', 5);
    std::string_view fund = account.substr(5, slash - 5), bucket = account.substr(slash + 1);
    if (scope_.kind == "project") return bucket == scope_.id;
    return funds.count(std::string(fund)) > 0;
  }
  bool Contains(const std::string& fund, const std::string& bucket) const {
    return Contains(FundAccount(fund, bucket));
  }
  std::set<std::string> funds;

 private:
  const DisclosureScope& scope_;
};

// Keeps the balances of the accounts in scope as the domain applies each entry, and the last
// entry's movements in scope.
class Collector final : public EntryObserver {
 public:
  Collector(const ScopeOfAccounts& scope, CheckedTotals& totals) : scope_(scope), totals_(totals) {}
  void OnApplied(const AppliedEntry& e, ApplyContext&) override {
    moved.clear();
    for (const Posting& p : e.postings) {
      if (!scope_.Contains(p.account)) continue;
      moved.emplace_back(p.account, p.posted_delta_fen);
      totals_.Add(balances[std::string(p.account)], p.posted_delta_fen, "the balance of",
                  p.account);
    }
    touched = !moved.empty();
  }
  Status failure() const override { return totals_.failure(); }
  bool touched = false;                                // the last entry moved money in scope
  std::vector<std::pair<std::string, int64_t>> moved;  // its postings in scope: account, fen
  std::map<std::string, int64_t> balances;

 private:
  const ScopeOfAccounts& scope_;
  CheckedTotals& totals_;
};

}  // namespace

Result<std::pair<int64_t, int64_t>> PeriodBounds(std::string_view period) {
  int year = 0;
  if (period.size() >= 4) std::from_chars(period.data(), period.data() + 4, year);
  if (year < 1900 || year > 2999)
    return InvalidArgument("period must be a year (2025) or a quarter (2025-Q1)")
        .WithField("period");
  if (period.size() == 4)
    return std::make_pair(ChinaMidnightMs(year, 1), ChinaMidnightMs(year + 1, 1));
  if (period.size() == 7 && period.substr(4, 2) == "-Q" && period[6] >= '1' && period[6] <= '4') {
    unsigned q = static_cast<unsigned>(period[6] - '1');
    int64_t start = ChinaMidnightMs(year, 1 + 3 * q);
    int64_t end = q == 3 ? ChinaMidnightMs(year + 1, 1) : ChinaMidnightMs(year, 4 + 3 * q);
    return std::make_pair(start, end);
  }
  return InvalidArgument("period must be a year (2025) or a quarter (2025-Q1), got '" +
                         std::string(period) + "'")
      .WithField("period");
}

std::string MaskName(std::string_view name) {
  // Split into UTF-8 characters; keep the first and (for three or more) the last.
  std::vector<std::string_view> chars;
  for (size_t i = 0; i < name.size();) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    chars.push_back(name.substr(i, len));
    i += len;
  }
  if (chars.empty()) return "*";
  if (chars.size() == 1) return std::string(chars[0]) + "*";
  if (chars.size() == 2) return std::string(chars[0]) + "*";
  return std::string(chars.front()) + "*" + std::string(chars.back());
}

Hash EntriesDigest(const LogSource& log, const std::vector<uint64_t>& indexes) {
  Sha256 h;
  for (uint64_t i : indexes) {
    Result<Hash> leaf = log.ReadNode(0, i);
    if (leaf.ok()) h.Update(*leaf);
  }
  return h.Finish();
}

namespace {

// What a correction may later undo, for entries that moved money in scope: an expense's class
// and purpose, a reissued or recovered line, a donation.
struct Undoable {
  enum class Kind { kExpense, kReturn, kReissue, kRecovery, kDonation };
  Kind kind = Kind::kExpense;
  std::string expense_class, purpose;
  std::optional<BatchLine> line;  // a return, a reissue; a recovery that names its line
  int64_t amount_fen = 0;
};

// One walk of the log up to the checkpoint, gathering the report's figures: each entry's event
// is seen with the domain's state before it, then applied. An entry counts at its business time
// (business_date.h), which need not follow log order: the opening and closing balances are the
// sums of the movements in scope dated before the period's start and end. Every sum goes
// through `totals`.
class DisclosureWalk {
 public:
  DisclosureWalk(DisclosureReport& r, const NameLookup& names)
      : r_(r),
        names_(names),
        accounts_(r.scope),
        collector_(accounts_, totals_),
        domain_({&collector_}) {
    int year = 0;
    std::from_chars(r.scope.period.data(), r.scope.period.data() + 4, year);
    year_ = {ChinaMidnightMs(year, 1), ChinaMidnightMs(year + 1, 1)};
    previous_year_ = {ChinaMidnightMs(year - 1, 1), year_.start_ms};
    period_ = {r.period_start_ms, r.period_end_ms};
    for (std::string_view line : kInflowLines) r_.inflows[std::string(line)] = 0;
    for (std::string_view line : kOutflowLines) r_.outflows[std::string(line)] = 0;
  }

  Status Walk(const LogSource& log) {
    FL_RETURN_IF_ERROR(log.ScanEntries(
        0, r_.checkpoint_size, [&](uint64_t i, ByteView bytes) { return Entry(i, bytes); }));
    FL_RETURN_IF_ERROR(totals_.failure());
    if (r_.scope.kind != "project" && accounts_.funds.empty())
      return NotFound(r_.scope.kind + " '" + r_.scope.id + "' has no funds in the log");
    Finish();
    return Status::Ok();
  }

 private:
  Status Entry(uint64_t i, ByteView bytes) {
    FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
    totals_.AtEntry(i);
    index_ = i;
    ts_ = e.timestamp_ms;
    scope_entry_ = false;
    if (IsDomainEvent(e.event_type)) {
      FL_ASSIGN_OR_RETURN(DomainEvent ev, DecodeEvent(e.event_type, e.payload));
      domain_.Read([&](const DomainState& s) {
        ts_ = BusinessTimeMs(ev, s, e.timestamp_ms);
        std::visit([&](const auto& event) { See(s, event); }, ev);
        return 0;
      });
    }
    FL_RETURN_IF_ERROR(domain_.ApplyCommitted(i, bytes, context_));
    if (period_.Contains(ts_) && (scope_entry_ || collector_.touched)) r_.entries.push_back(i);
    for (const auto& [account, fen] : collector_.moved) {
      if (ts_ < period_.start_ms) Add(r_.opening_fen, fen, "the opening balance");
      if (ts_ >= period_.end_ms) continue;
      Add(r_.closing_fen, fen, "the closing balance");
      Add(end_balances_[account], fen, "the balance at the end of", account);
    }
    return totals_.failure();
  }

  void Add(int64_t& total, int64_t fen, std::string_view what, std::string_view of = {}) {
    totals_.Add(total, fen, what, of);
  }
  // A movement of the period on the line of its kind.
  void In(std::string_view line, int64_t fen) {
    if (period_.Contains(ts_)) Add(r_.inflows[std::string(line)], fen, "the inflows of", line);
  }
  void Out(std::string_view line, int64_t fen) {
    if (period_.Contains(ts_)) Add(r_.outflows[std::string(line)], fen, "the outflows of", line);
  }
  // Spending of class `cls` on `purpose` (negative: taken back), in the period and the year.
  // Roll payments ("payments") are charitable spending in the year's ratios.
  void Spent(const std::string& cls, const std::string& purpose, int64_t fen) {
    if (period_.Contains(ts_)) {
      Add(r_.spending_by_class[cls], fen, "the spending of class", cls);
      Add(r_.spending_by_purpose[purpose], fen, "the spending on", purpose);
    }
    if (!year_.Contains(ts_)) return;
    Add(r_.year_spending_fen, fen, "the year's spending");
    if (cls == "charitable" || cls == "payments")
      Add(r_.year_charitable_fen, fen, "the year's charitable spending");
    if (cls == "admin") Add(r_.year_admin_fen, fen, "the year's admin costs");
  }

  void See(const DomainState&, const fb::FundOpenedT& f) {
    bool mine = (r_.scope.kind == "fund" && f.fund_id == r_.scope.id) ||
                (r_.scope.kind == "org" && f.organisation == r_.scope.id);
    if (!mine) return;
    accounts_.funds.insert(f.fund_id);
    r_.fund_names[f.fund_id] = f.name;
    r_.organisation = f.organisation;
    scope_entry_ = true;
  }
  void See(const DomainState&, const fb::DonationReceivedT& d) {
    if (!accounts_.Contains(d.fund_id, d.bucket)) return;
    In("donations", d.amount_fen);
    undoable_[index_] = {Undoable::Kind::kDonation, "", "", std::nullopt, d.amount_fen};
    if (period_.Contains(ts_)) {
      r_.donations_count++;
      Add(r_.donations_fen, d.amount_fen, "the donations");
      Add(d.bucket == kGeneralBucket ? r_.donations_open_fen : r_.donations_restricted_fen,
          d.amount_fen, "the donations");
      if (d.donor_id.empty()) r_.anonymous_donations++;
      if (d.in_kind) Add(r_.in_kind_fen, d.amount_fen, "the donations in kind");
    }
    if (previous_year_.Contains(ts_))
      Add(r_.previous_year_income_fen, d.amount_fen, "the previous year's income");
  }
  void See(const DomainState&, const fb::AppropriatedT& a) {
    if (!accounts_.Contains(a.fund_id, a.bucket)) return;
    In("appropriations", a.amount_fen);
    if (period_.Contains(ts_)) Add(r_.appropriations_fen, a.amount_fen, "the appropriations");
  }
  void See(const DomainState&, const fb::LotteryGrantAwardedT& g) {
    if (accounts_.Contains(g.to_fund_id, g.project_id)) {
      In("lottery_grants", g.amount_fen);
      if (period_.Contains(ts_))
        Add(r_.lottery_grants_in_fen, g.amount_fen, "the lottery grants received");
    }
    if (accounts_.Contains(g.from_fund_id, g.from_bucket)) {
      Out("grants", g.amount_fen);
      if (period_.Contains(ts_))
        Add(r_.grants_out_by_category[g.category], g.amount_fen, "the grants for", g.category);
    }
  }
  void See(const DomainState&, const fb::TransferredBetweenFundsT& t) {
    if (accounts_.Contains(t.to_fund_id, t.to_bucket)) {
      In("transfers_in", t.amount_fen);
      if (period_.Contains(ts_)) Add(r_.transfers_in_fen, t.amount_fen, "the transfers in");
    }
    if (accounts_.Contains(t.from_fund_id, t.from_bucket)) {
      Out("transfers_out", t.amount_fen);
      if (period_.Contains(ts_)) Add(r_.transfers_out_fen, t.amount_fen, "the transfers out");
    }
  }
  void See(const DomainState&, const fb::RestrictionReleasedT& x) {
    if (accounts_.Contains(x.fund_id, x.to_bucket)) In("releases_in", x.amount_fen);
    if (accounts_.Contains(x.fund_id, x.bucket)) Out("releases_out", x.amount_fen);
  }
  void See(const DomainState&, const fb::ExpensedT& x) {
    if (!accounts_.Contains(x.fund_id, x.bucket)) return;
    std::string cls = fb::EnumNameExpenseClass(x.class_);
    Out("expenses", x.amount_fen);
    Spent(cls, x.purpose, x.amount_fen);
    undoable_[index_] = {Undoable::Kind::kExpense, cls, x.purpose, std::nullopt, x.amount_fen};
  }
  void See(const DomainState& s, const fb::DisbursementBatchApprovedT& ok) {
    auto b = s.batches.find(ok.batch_id);
    if (b == s.batches.end() || !accounts_.Contains(b->second.fund, b->second.bucket)) return;
    Out("payments", b->second.total_fen);
    for (const BatchLine& l : b->second.lines) Paid(s, l, l.amount_fen);
  }
  // A line of a roll in scope, or null.
  const BatchLine* LineInScope(const DomainState& s, const std::string& batch, uint32_t line_no) {
    auto b = s.batches.find(batch);
    if (b == s.batches.end() || !accounts_.Contains(b->second.fund, b->second.bucket))
      return nullptr;
    return b->second.FindLine(line_no);
  }
  void See(const DomainState& s, const fb::PaymentReturnedT& x) {
    const BatchLine* l = LineInScope(s, x.batch_id, x.line_no);
    if (l == nullptr) return;
    In("returns", l->amount_fen);
    Paid(s, *l, -l->amount_fen);
    undoable_[index_] = {Undoable::Kind::kReturn, "", "", *l, l->amount_fen};
  }
  void See(const DomainState& s, const fb::PaymentReissuedT& x) {
    const BatchLine* l = LineInScope(s, x.batch_id, x.line_no);
    if (l == nullptr) return;
    Out("reissues", l->amount_fen);
    Paid(s, *l, l->amount_fen);
    undoable_[index_] = {Undoable::Kind::kReissue, "", "", *l, l->amount_fen};
  }
  void See(const DomainState& s, const fb::RecoveredT& x) {
    if (!accounts_.Contains(x.fund_id, x.bucket)) return;
    In("recoveries", x.amount_fen);
    std::optional<BatchLine> line;
    if (const BatchLine* l = LineInScope(s, x.batch_id, x.line_no)) line = *l;
    Recovered(s, line, -x.amount_fen);
    undoable_[index_] = {Undoable::Kind::kRecovery, "", "", line, x.amount_fen};
  }
  // Money recovered from a person (negative) or given back to them by a reversed recovery.
  void Recovered(const DomainState& s, const std::optional<BatchLine>& line, int64_t fen) {
    if (line) return Paid(s, *line, fen);
    Spent("payments", "recovered", fen);  // a recovery that names no line in scope
  }
  void See(const DomainState& s, const fb::ReversalT& x) {
    // The money: the reversed entry's postings in scope, undone.
    for (const Posting& p : s.ReversiblePostings(x.entry_index)) {
      if (!accounts_.Contains(p.account) || p.posted_delta_fen == 0) continue;
      if (p.posted_delta_fen < 0) {
        In("reversals", -p.posted_delta_fen);  // never INT64_MIN: a posting is a checked amount
      } else {
        Out("reversals", p.posted_delta_fen);
      }
    }
    // What it spent or received, taken back.
    auto u = undoable_.find(x.entry_index);
    if (u == undoable_.end()) return;
    const Undoable& what = u->second;
    switch (what.kind) {
      case Undoable::Kind::kExpense:
        return Spent(what.expense_class, what.purpose, -what.amount_fen);
      case Undoable::Kind::kReissue:
        return Paid(s, *what.line, -what.amount_fen);
      case Undoable::Kind::kReturn:  // the person holds the payment again
        return Paid(s, *what.line, what.amount_fen);
      case Undoable::Kind::kRecovery:
        return Recovered(s, what.line, what.amount_fen);
      case Undoable::Kind::kDonation:
        if (previous_year_.Contains(ts_))
          Add(r_.previous_year_income_fen, -what.amount_fen, "the previous year's income");
        return;
    }
  }
  void See(const DomainState&, const fb::DisclosurePublishedT& pub) {
    if ((r_.scope.kind == "org" && pub.organisation == r_.scope.id) ||
        accounts_.funds.count(pub.fund_id))
      scope_entry_ = true;
  }
  template <typename T>
  void See(const DomainState&, const T&) {}

  // `fen` paid on a roll line in scope (negative: returned, recovered, a reissue reversed):
  // spending, people paid per program and county, and the recipient list where the program's
  // recipients are announced. A person counts once paid, not when money comes back.
  void Paid(const DomainState& s, const BatchLine& l, int64_t fen) {
    const std::string& beneficiary = s.names[l.beneficiary];
    const std::string& program = s.names[l.program];
    Spent("payments", program, fen);
    if (!period_.Contains(ts_)) return;
    auto ben = s.beneficiaries.find(beneficiary);
    std::string region = ben == s.beneficiaries.end() ? "" : ben->second.region;
    DisclosureReport::Paid& p = r_.paid_by_program_region[program][region];
    std::string key = program + "/" + region;
    Add(p.amount_fen, fen, "the payments of", key);
    if (fen > 0 && people_[key].insert(beneficiary).second) p.beneficiaries++;
    if (fen > 0 && ben != s.beneficiaries.end() &&
        households_[key].insert(ben->second.household).second)
      p.households++;
    auto prog = s.programs.find(program);
    if (!names_ || prog == s.programs.end() || !Publishable(prog->second.category) ||
        ben == s.beneficiaries.end() || ben->second.erased)
      return;
    RecipientLine& line = recipients_[{beneficiary, program}];
    if (line.masked_name.empty()) {
      std::optional<std::string> name = names_(beneficiary);
      line.masked_name = name ? MaskName(*name) : "*";
      line.region = region;
      line.program = program;
    }
    Add(line.amount_fen, fen, "the payments to a recipient of", program);
  }

  // The funds, what restricted money is left at the period's end, and the recipients.
  void Finish() {
    for (const auto& [account, fen] : end_balances_) {
      size_t slash = account.find('/', 5);
      std::string bucket = account.substr(slash + 1);
      if (bucket != kGeneralBucket && fen > 0) r_.restricted_left[account.substr(5)] = fen;
    }
    for (const auto& [account, fen] : collector_.balances) {
      std::string fund = account.substr(5, account.find('/', 5) - 5);
      if (std::find(r_.funds.begin(), r_.funds.end(), fund) == r_.funds.end())
        r_.funds.push_back(fund);
    }
    for (const std::string& f : accounts_.funds) {
      if (std::find(r_.funds.begin(), r_.funds.end(), f) == r_.funds.end()) r_.funds.push_back(f);
    }
    std::sort(r_.funds.begin(), r_.funds.end());
    for (auto& [key, line] : recipients_) r_.recipients.push_back(line);
  }

  DisclosureReport& r_;
  const NameLookup& names_;
  CheckedTotals totals_;
  ScopeOfAccounts accounts_;
  Collector collector_;
  Domain domain_;
  ApplyContext context_;
  UtcRangeMs period_, year_, previous_year_;
  uint64_t index_ = 0;        // of the entry being read
  int64_t ts_ = 0;            // its business time (business_date.h)
  bool scope_entry_ = false;  // it opens a fund in scope or publishes for the scope
  std::map<std::string, int64_t> end_balances_;                       // at the period's end
  std::map<uint64_t, Undoable> undoable_;                             // by entry index
  std::map<std::string, std::set<std::string>> people_, households_;  // "program/region" -> ids
  std::map<std::pair<std::string, std::string>, RecipientLine> recipients_;
};

// The sum of a side's lines; false when it would overflow (only an imported log's figures).
bool SumOfLines(const std::map<std::string, int64_t>& lines, Amount& sum) {
  for (const auto& [line, fen] : lines) {
    if (!sum.TryAdd(Amount::Fen(fen))) return false;
  }
  return true;
}

}  // namespace

Status CheckReconciliation(const DisclosureReport& r) {
  Amount in, out;
  std::string what = r.scope.kind + " " + r.scope.id + " " + r.scope.period;
  if (!SumOfLines(r.inflows, in) || !SumOfLines(r.outflows, out))
    return Corruption("the flows of the report of " + what + " are beyond 64 bits of fen");
  Result<Amount> expected = Amount::Fen(r.opening_fen).Plus(in);
  if (expected.ok()) expected = expected->Minus(out);
  if (expected.ok() && expected->fen() == r.closing_fen) return Status::Ok();
  return Internal("the report of " + what + " does not reconcile: opening " +
                  FormatFen(r.opening_fen) + " + inflows " + in.ToYuan() + " - outflows " +
                  out.ToYuan() + " = " +
                  (expected.ok() ? expected->ToYuan() : std::string("(beyond 64 bits)")) +
                  ", but the closing balance is " + FormatFen(r.closing_fen));
}

std::string PercentText(int64_t part, int64_t whole, PercentLimit limit) {
  if (whole == 0) return "-";
  // Tenths of a percent, in 128 bits: part * 1000 cannot overflow there.
  __int128 n = static_cast<__int128>(part) * 1000, d = whole;
  if (d < 0) n = -n, d = -d;
  __int128 q = n / d, rem = n % d;                                   // truncated toward zero
  if (rem != 0 && limit == PercentLimit::kAtMost && n > 0) q += 1;   // up
  if (rem != 0 && limit == PercentLimit::kAtLeast && n < 0) q -= 1;  // down
  bool negative = q < 0;
  unsigned __int128 mag = negative ? static_cast<unsigned __int128>(-q) : q;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(mag % 10)));
    mag /= 10;
  } while (mag != 0);
  if (digits.size() < 2) digits.insert(digits.begin(), '0');
  digits.insert(digits.end() - 1, '.');
  return (negative ? "-" : "") + digits + "%";
}

Result<DisclosureReport> ComputeDisclosure(const LogSource& log, uint64_t checkpoint_size,
                                           const DisclosureScope& scope, const NameLookup& names) {
  if (scope.kind != "fund" && scope.kind != "org" && scope.kind != "project") {
    return InvalidArgument("scope must be fund, org or project").WithField("scope");
  }
  if (!IsValidId(scope.id)) return InvalidArgument("scope id is malformed").WithField("id");
  FL_ASSIGN_OR_RETURN(auto bounds, PeriodBounds(scope.period));
  if (checkpoint_size == 0 || checkpoint_size > log.size()) {
    return InvalidArgument("no checkpoint of size " + std::to_string(checkpoint_size));
  }
  DisclosureReport r;
  r.scope = scope;
  r.period_start_ms = bounds.first;
  r.period_end_ms = bounds.second;
  r.checkpoint_size = checkpoint_size;
  FL_RETURN_IF_ERROR(log.ScanCheckpoints([&](uint64_t size, std::string_view note) {
    if (size == checkpoint_size) r.checkpoint = std::string(note);
    return Status::Ok();
  }));
  if (r.checkpoint.empty())
    return NotFound("no checkpoint was signed at size " + std::to_string(checkpoint_size));
  DisclosureWalk walk(r, names);
  FL_RETURN_IF_ERROR(walk.Walk(log));
  FL_RETURN_IF_ERROR(CheckReconciliation(r));
  r.entries_digest = EntriesDigest(log, r.entries);
  return r;
}

}  // namespace fundledger
