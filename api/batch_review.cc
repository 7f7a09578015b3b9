#include "api/batch_review.h"

#include <boost/json.hpp>
#include <set>

#include "ledger/events.h"
#include "projections/checked_totals.h"

namespace fundledger {
namespace json = boost::json;
namespace {

// (beneficiary id, program id) -> its amount and first line in one month's roll(s); the views
// point into DomainState::names, stable while the read gate is held.
using PersonProgram = std::pair<std::string_view, std::string_view>;
struct Paid {
  int64_t amount_fen = 0;
  uint32_t line_no = 0;
};
using PaidMap = std::map<PersonProgram, Paid>;

struct Tally {
  ReviewTotal total;
  std::set<NameId> people;
};

std::string RegionOf(const DomainState& s, std::string_view beneficiary) {
  auto it = s.beneficiaries.find(std::string(beneficiary));
  return it == s.beneficiaries.end() ? std::string() : it->second.region;
}

Status AddLines(const DomainState& s, const BatchState& b, CheckedTotals& sums, PaidMap* paid) {
  for (const BatchLine& l : b.lines) {
    Paid& p = (*paid)[{s.names[l.beneficiary], s.names[l.program]}];
    if (p.line_no == 0) p.line_no = l.line_no;
    if (!sums.Add(p.amount_fen, l.amount_fen, "a person's amount in the roll",
                  s.names[l.beneficiary]))
      return sums.failure();
  }
  return Status::Ok();
}

Status AddTotals(const DomainState& s, const BatchState& b,
                 const std::map<std::string, std::string>& region_names, CheckedTotals& sums,
                 BatchReview* r) {
  std::map<std::string, Tally> programs, regions;
  for (const BatchLine& l : b.lines) {
    const std::string& program = s.names[l.program];
    std::string region = RegionOf(s, s.names[l.beneficiary]);
    for (Tally* t : {&programs[program], &regions[region]}) {
      t->total.lines++;
      t->people.insert(l.beneficiary);
      if (!sums.Add(t->total.amount_fen, l.amount_fen, "a program's or region's total", program))
        return sums.failure();
    }
  }
  auto finish = [](std::map<std::string, Tally>& tallies, auto name_of) {
    std::vector<ReviewTotal> out;
    for (auto& [code, t] : tallies) {
      t.total.code = code;
      t.total.name = name_of(code);
      t.total.people = static_cast<int64_t>(t.people.size());
      out.push_back(std::move(t.total));
    }
    return out;
  };
  r->by_program = finish(programs, [&](const std::string& code) {
    auto it = s.programs.find(code);
    return it == s.programs.end() ? std::string() : it->second.name;
  });
  r->by_region = finish(regions, [&](const std::string& code) {
    auto it = region_names.find(code);
    return it == region_names.end() ? std::string() : it->second;
  });
  return Status::Ok();
}

void Note(ReviewChange& change, ReviewLine line, CheckedTotals& sums) {
  change.count++;
  sums.Add(change.amount_fen, line.amount_fen, "a change's total");
  sums.Add(change.amount_fen, -line.previous_fen, "a change's total");
  if (change.lines.size() < kReviewChangeLinesMax) change.lines.push_back(std::move(line));
}

// The month-on-month comparison of `now` (this roll) with `before` (the previous month's).
Status Compare(const DomainState& s, const PaidMap& now, const PaidMap& before, int32_t period,
               CheckedTotals& sums, BatchReview* r) {
  std::set<std::string_view> people_now, people_before;
  for (const auto& [key, p] : now) people_now.insert(key.first);
  for (const auto& [key, p] : before) people_before.insert(key.first);
  for (std::string_view who : people_now) r->people_added += people_before.count(who) == 0;
  for (std::string_view who : people_before) r->people_dropped += people_now.count(who) == 0;
  for (const auto& [key, p] : now) {
    auto was = before.find(key);
    ReviewLine line{std::string(key.first),
                    std::string(key.second),
                    RegionOf(s, key.first),
                    "",
                    p.line_no,
                    p.amount_fen,
                    was == before.end() ? 0 : was->second.amount_fen,
                    ""};
    if (was == before.end()) {
      Note(r->added, std::move(line), sums);
    } else if (was->second.amount_fen != p.amount_fen) {
      Note(r->changed, std::move(line), sums);
    }
  }
  for (const auto& [key, p] : before) {
    if (now.count(key) != 0) continue;
    ReviewLine line{std::string(key.first),
                    std::string(key.second),
                    RegionOf(s, key.first),
                    "",
                    0,
                    0,
                    p.amount_fen,
                    ""};
    auto ben = s.beneficiaries.find(line.beneficiary);
    if (ben != s.beneficiaries.end())
      line.person_status = fb::EnumNameBeneficiaryStatus(ben->second.StatusOn(period * 100 + 1));
    Note(r->dropped, std::move(line), sums);
  }
  return sums.failure();
}

void Sample(const DomainState& s, const BatchState& b, BatchReview* r) {
  const size_t n = b.lines.size(), k = std::min(n, kReviewSampleLinesMax);
  for (size_t i = 0; i < k; ++i) {
    const BatchLine& l = b.lines[i * n / k];  // evenly spread: the first, then every n/k-th
    r->sample.push_back({s.names[l.beneficiary], s.names[l.program],
                         RegionOf(s, s.names[l.beneficiary]), "", l.line_no, l.amount_fen, 0, ""});
  }
}

void NameRegions(const std::map<std::string, std::string>& region_names, BatchReview* r) {
  for (auto* lines : {&r->added.lines, &r->dropped.lines, &r->changed.lines, &r->sample}) {
    for (ReviewLine& l : *lines) {
      if (auto it = region_names.find(l.region); it != region_names.end())
        l.region_name = it->second;
    }
  }
}

json::array LinesJson(const std::vector<ReviewLine>& lines, bool with_previous) {
  json::array out;
  for (const ReviewLine& l : lines) {
    json::object o{{"beneficiary_id", l.beneficiary},
                   {"program_id", l.program},
                   {"region", l.region},
                   {"region_name", l.region_name}};
    if (l.line_no != 0) o["line_no"] = l.line_no;
    o["amount"] = FormatFen(l.amount_fen);
    if (with_previous) o["previous_amount"] = FormatFen(l.previous_fen);
    if (!l.person_status.empty()) o["status"] = l.person_status;
    out.push_back(std::move(o));
  }
  return out;
}

json::object ChangeJson(const ReviewChange& c, bool with_previous) {
  return json::object{{"count", c.count},
                      {"amount", FormatFen(c.amount_fen)},
                      {"lines", LinesJson(c.lines, with_previous)},
                      {"truncated", c.lines.size() < c.count}};
}

json::array TotalsJson(const std::vector<ReviewTotal>& totals, const char* key) {
  json::array out;
  for (const ReviewTotal& t : totals) {
    out.push_back(json::object{{key, t.code},
                               {"name", t.name},
                               {"lines", t.lines},
                               {"people", t.people},
                               {"amount_fen", t.amount_fen},
                               {"amount", FormatFen(t.amount_fen)}});
  }
  return out;
}

}  // namespace

Status ReviewBatch(const DomainState& s, const std::string& batch_id,
                   const std::map<std::string, std::string>& region_names, BatchReview* r) {
  auto it = s.batches.find(batch_id);
  if (it == s.batches.end()) return NotFound("batch '" + batch_id + "' does not exist");
  const BatchState& b = it->second;
  r->batch_id = batch_id;
  r->fund = b.fund;
  if (auto f = s.funds.find(b.fund); f != s.funds.end()) r->fund_name = f->second.name;
  r->bucket = b.bucket;
  r->status = BatchStatusName(b.status);
  r->period = b.period;
  r->line_count = b.lines.size();
  r->total_fen = b.total_fen;
  r->prepared.index = b.prepared_index;
  r->decided.index = b.status == BatchStatus::kPrepared ? 0 : b.decided_index;
  r->read_at = s.next_index;
  r->previous_period = MonthFromIndex(MonthIndex(b.period) - 1);
  CheckedTotals sums;
  sums.AtEntry(b.prepared_index);  // an overflow names the roll's entry
  FL_RETURN_IF_ERROR(AddTotals(s, b, region_names, sums, r));
  PaidMap now, before;
  FL_RETURN_IF_ERROR(AddLines(s, b, sums, &now));
  for (const auto& [id, other] : s.batches) {
    if (other.fund != b.fund || other.period != r->previous_period ||
        other.status != BatchStatus::kApproved)
      continue;
    r->previous_batches.push_back(id);
    r->previous_line_count += other.lines.size();
    if (!sums.Add(r->previous_total_fen, other.total_fen, "the previous month's total"))
      return sums.failure();
    FL_RETURN_IF_ERROR(AddLines(s, other, sums, &before));
  }
  FL_RETURN_IF_ERROR(Compare(s, now, before, b.period, sums, r));
  Sample(s, b, r);
  NameRegions(region_names, r);
  return Status::Ok();
}

json::object BatchReviewJson(const BatchReview& r) {
  json::array previous;
  for (const std::string& id : r.previous_batches) previous.push_back(json::string(id));
  json::object o{{"batch_id", r.batch_id},
                 {"status", r.status},
                 {"fund_id", r.fund},
                 {"fund_name", r.fund_name},
                 {"bucket", r.bucket},
                 {"period", FormatMonth(r.period)},
                 {"line_count", r.line_count},
                 {"total_fen", r.total_fen},
                 {"total", FormatFen(r.total_fen)},
                 {"maker", r.prepared.actor},
                 {"prepared_index", r.prepared.index},
                 {"read_at", r.read_at}};
  if (r.decided.index != 0) {
    o["decided_index"] = r.decided.index;
    o["decided_by"] = r.decided.actor;
  }
  o["by_program"] = TotalsJson(r.by_program, "program_id");
  o["by_region"] = TotalsJson(r.by_region, "region");
  o["previous_month"] = json::object{
      {"period", FormatMonth(r.previous_period)}, {"batches", std::move(previous)},
      {"line_count", r.previous_line_count},      {"total_fen", r.previous_total_fen},
      {"total", FormatFen(r.previous_total_fen)}, {"people_added", r.people_added},
      {"people_dropped", r.people_dropped},       {"added", ChangeJson(r.added, false)},
      {"dropped", ChangeJson(r.dropped, true)},   {"changed", ChangeJson(r.changed, true)}};
  o["sample"] = LinesJson(r.sample, false);
  return o;
}

}  // namespace fundledger
