#include "projections/disclosure.h"

#include <charconv>
#include <ctime>
#include <set>

#include "ledger/domain.h"

namespace fundledger {
namespace {

constexpr int64_t kChinaOffsetMs = 8 * 3'600'000;

int64_t ChinaMidnightMs(int year, int month, int day) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  return static_cast<int64_t>(timegm(&tm)) * 1000 - kChinaOffsetMs;
}

bool Publishable(fb::ProgramCategory c) {
  return c == fb::ProgramCategory::dibao || c == fb::ProgramCategory::tekun ||
         c == fb::ProgramCategory::temporary;
}

// Collects what each entry did, before and after the domain applies it.
class Collector final : public EntryObserver {
 public:
  explicit Collector(std::function<bool(const std::string&)> in_scope)
      : in_scope_(std::move(in_scope)) {}
  void OnApplied(const AppliedEntry& e, ApplyContext&) override {
    touched_ = false;
    for (const Posting& p : e.postings) {
      if (!in_scope_(p.account)) continue;
      touched_ = true;
      balances[p.account] += p.posted_delta_fen;
    }
  }
  bool touched_ = false;
  std::map<std::string, int64_t> balances;

 private:
  std::function<bool(const std::string&)> in_scope_;
};

}  // namespace

Result<std::pair<int64_t, int64_t>> PeriodBounds(std::string_view period) {
  int year = 0;
  if (period.size() >= 4) std::from_chars(period.data(), period.data() + 4, year);
  if (year < 1900 || year > 2999)
    return InvalidArgument("period must be a year (2025) or a quarter (2025-Q1)")
        .WithField("period");
  if (period.size() == 4)
    return std::make_pair(ChinaMidnightMs(year, 1, 1), ChinaMidnightMs(year + 1, 1, 1));
  if (period.size() == 7 && period.substr(4, 2) == "-Q" && period[6] >= '1' && period[6] <= '4') {
    int q = period[6] - '1';
    int64_t start = ChinaMidnightMs(year, 1 + 3 * q, 1);
    int64_t end = q == 3 ? ChinaMidnightMs(year + 1, 1, 1) : ChinaMidnightMs(year, 4 + 3 * q, 1);
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

  std::set<std::string> scope_funds;  // filled as funds open
  auto account_in_scope = [&](const std::string& account) {
    if (!IsFundAccount(account)) return false;
    size_t slash = account.find('/', 5);
    std::string fund = account.substr(5, slash - 5), bucket = account.substr(slash + 1);
    if (scope.kind == "project") return bucket == scope.id;
    return scope_funds.count(fund) > 0;
  };
  Collector collector(account_in_scope);
  Domain domain({&collector});
  ApplyContext context;
  const int year = [&] {
    int y = 0;
    std::from_chars(scope.period.data(), scope.period.data() + 4, y);
    return y;
  }();
  const int64_t year_start = ChinaMidnightMs(year, 1, 1),
                year_end = ChinaMidnightMs(year + 1, 1, 1);
  const int64_t prev_year_start = ChinaMidnightMs(year - 1, 1, 1);
  bool opened = false;
  std::map<std::string, std::set<std::string>> people, households;  // "program/region" -> ids
  std::map<std::pair<std::string, std::string>, RecipientLine> recipients;

  Status walked = log.ScanEntries(0, checkpoint_size, [&](uint64_t i, ByteView bytes) -> Status {
    FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
    const bool in_period = e.timestamp_ms >= bounds.first && e.timestamp_ms < bounds.second;
    if (!opened && e.timestamp_ms >= bounds.first) {
      for (const auto& [account, fen] : collector.balances) r.opening_fen += fen;
      opened = true;
    }
    bool scope_entry = false;
    if (IsDomainEvent(e.event_type)) {
      FL_ASSIGN_OR_RETURN(DomainEvent ev, DecodeEvent(e.event_type, e.payload));
      domain.Read([&](const DomainState& s) {
        if (auto* f = std::get_if<fb::FundOpenedT>(&ev)) {
          bool mine = (scope.kind == "fund" && f->fund_id == scope.id) ||
                      (scope.kind == "org" && f->organisation == scope.id);
          if (mine) {
            scope_funds.insert(f->fund_id);
            r.fund_names[f->fund_id] = f->name;
            r.organisation = f->organisation;
            scope_entry = true;
          }
        }
        auto fund_in = [&](const std::string& fund, const std::string& bucket) {
          return account_in_scope(FundAccount(fund, bucket));
        };
        auto year_of = [&](int64_t ts) { return ts >= year_start && ts < year_end; };
        if (auto* d = std::get_if<fb::DonationReceivedT>(&ev);
            d && fund_in(d->fund_id, d->bucket)) {
          if (in_period) {
            r.donations_count++;
            r.donations_fen += d->amount_fen;
            (d->bucket == kGeneralBucket ? r.donations_open_fen : r.donations_restricted_fen) +=
                d->amount_fen;
            if (d->donor_id.empty()) r.anonymous_donations++;
            if (d->in_kind) r.in_kind_fen += d->amount_fen;
          }
          if (e.timestamp_ms >= prev_year_start && e.timestamp_ms < year_start)
            r.previous_year_income_fen += d->amount_fen;
        } else if (auto* a = std::get_if<fb::AppropriatedT>(&ev);
                   a && in_period && fund_in(a->fund_id, a->bucket)) {
          r.appropriations_fen += a->amount_fen;
        } else if (auto* g = std::get_if<fb::LotteryGrantAwardedT>(&ev); g && in_period) {
          if (fund_in(g->to_fund_id, g->project_id)) r.lottery_grants_in_fen += g->amount_fen;
          if (fund_in(g->from_fund_id, g->from_bucket))
            r.grants_out_by_category[g->category] += g->amount_fen;
        } else if (auto* t = std::get_if<fb::TransferredBetweenFundsT>(&ev); t && in_period) {
          if (fund_in(t->to_fund_id, t->to_bucket)) r.transfers_in_fen += t->amount_fen;
          if (fund_in(t->from_fund_id, t->from_bucket)) r.transfers_out_fen += t->amount_fen;
        } else if (auto* x = std::get_if<fb::ExpensedT>(&ev); x && fund_in(x->fund_id, x->bucket)) {
          std::string cls = fb::EnumNameExpenseClass(x->class_);
          if (in_period) {
            r.spending_by_class[cls] += x->amount_fen;
            r.spending_by_purpose[x->purpose] += x->amount_fen;
          }
          if (year_of(e.timestamp_ms)) {
            r.year_spending_fen += x->amount_fen;
            if (x->class_ == fb::ExpenseClass::charitable) r.year_charitable_fen += x->amount_fen;
            if (x->class_ == fb::ExpenseClass::admin) r.year_admin_fen += x->amount_fen;
          }
        } else if (auto* ok = std::get_if<fb::DisbursementBatchApprovedT>(&ev); ok && in_period) {
          auto b = s.batches.find(ok->batch_id);
          if (b != s.batches.end() && fund_in(b->second.fund, b->second.bucket)) {
            for (const BatchLine& l : b->second.lines) {
              const std::string& beneficiary = s.names[l.beneficiary];
              const std::string& program = s.names[l.program];
              auto ben = s.beneficiaries.find(beneficiary);
              std::string region = ben == s.beneficiaries.end() ? "" : ben->second.region;
              r.spending_by_class["payments"] += l.amount_fen;
              r.spending_by_purpose[program] += l.amount_fen;
              DisclosureReport::Paid& p = r.paid_by_program_region[program][region];
              p.amount_fen += l.amount_fen;
              std::string key = program + "/" + region;
              if (people[key].insert(beneficiary).second) p.beneficiaries++;
              if (ben != s.beneficiaries.end() &&
                  households[key].insert(ben->second.household).second)
                p.households++;
              auto prog = s.programs.find(program);
              if (names && prog != s.programs.end() && Publishable(prog->second.category) &&
                  ben != s.beneficiaries.end() && !ben->second.erased) {
                RecipientLine& line = recipients[{beneficiary, program}];
                if (line.masked_name.empty()) {
                  std::optional<std::string> name = names(beneficiary);
                  line.masked_name = name ? MaskName(*name) : "*";
                  line.region = region;
                  line.program = program;
                }
                line.amount_fen += l.amount_fen;
              }
            }
          }
        }
        if (auto* pub = std::get_if<fb::DisclosurePublishedT>(&ev)) {
          if ((scope.kind == "org" && pub->organisation == scope.id) ||
              scope_funds.count(pub->fund_id))
            scope_entry = true;
        }
        return 0;
      });
    }
    FL_RETURN_IF_ERROR(domain.ApplyCommitted(i, bytes, context));
    if (in_period && (scope_entry || collector.touched_)) r.entries.push_back(i);
    if (e.timestamp_ms < bounds.second) {
      r.closing_fen = 0;
      for (const auto& [account, fen] : collector.balances) r.closing_fen += fen;
    }
    return Status::Ok();
  });
  if (!walked.ok()) return walked;
  if (!opened) {
    for (const auto& [account, fen] : collector.balances) r.opening_fen += fen;
  }
  if (scope.kind != "project" && scope_funds.empty())
    return NotFound(scope.kind + " '" + scope.id + "' has no funds in the log");
  for (const auto& [account, fen] : collector.balances) {
    size_t slash = account.find('/', 5);
    std::string bucket = account.substr(slash + 1);
    if (bucket != kGeneralBucket && fen > 0) r.restricted_left[account.substr(5)] = fen;
    size_t fund_end = slash;
    std::string fund = account.substr(5, fund_end - 5);
    if (std::find(r.funds.begin(), r.funds.end(), fund) == r.funds.end()) r.funds.push_back(fund);
  }
  for (const std::string& f : scope_funds) {
    if (std::find(r.funds.begin(), r.funds.end(), f) == r.funds.end()) r.funds.push_back(f);
  }
  std::sort(r.funds.begin(), r.funds.end());
  for (auto& [key, line] : recipients) r.recipients.push_back(line);
  r.entries_digest = EntriesDigest(log, r.entries);
  return r;
}

}  // namespace fundledger
