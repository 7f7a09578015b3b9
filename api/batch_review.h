// The checker's view of one roll (disbursement batch): what it pays by program and by region,
// what changed from the previous month's roll of the same fund (people added, people dropped,
// amounts changed, with the lines), and a sample of its lines. Computed from the domain state
// alone, never from what a console sent: call ReviewBatch inside Domain::Read, and the review
// reflects the log at `at.next_index` entries (`read_at`).
//
// "The previous month's roll" is every approved batch of the same fund whose month is the month
// before this one; lines are compared by (person, program), amounts summed over a person's
// lines of that program. Each change list holds its first kReviewChangeLinesMax lines in
// beneficiary order with the full count and sum beside them, whatever the roll's size.
//
//   BatchReview review;
//   Status s = domain.Read([&](const DomainState& at) { return ReviewBatch(at, id, names, &review);
//   }); boost::json::object o = BatchReviewJson(review);
//
// Plain functions over their arguments: any thread.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ledger/domain_state.h"

namespace fundledger {

inline constexpr size_t kReviewChangeLinesMax = 200;  // per change list (added, dropped, changed)
inline constexpr size_t kReviewSampleLinesMax = 20;

// Lines, people and money of one program or one region of a roll.
struct ReviewTotal {
  std::string code;  // program id or region code
  std::string name;  // program name, region name ("" when the names table has none)
  int64_t lines = 0;
  int64_t people = 0;
  int64_t amount_fen = 0;
};

// One (person, program) of a roll or of the comparison.
struct ReviewLine {
  std::string beneficiary;
  std::string program;
  std::string region;
  std::string region_name;    // "" when the names table has none
  uint32_t line_no = 0;       // the roll's first line of it; 0 for a dropped line
  int64_t amount_fen = 0;     // in this roll (0: dropped)
  int64_t previous_fen = 0;   // in the previous month's roll (0: added)
  std::string person_status;  // dropped lines: the person's status in this roll's month
};

struct ReviewChange {
  size_t count = 0;
  int64_t amount_fen = 0;  // this roll's amount less the previous roll's, over every line of it
  std::vector<ReviewLine> lines;  // the first kReviewChangeLinesMax
};

// Who recorded a step of the batch, from its log entry (filled by the caller from the log).
struct ReviewStep {
  uint64_t index = 0;
  std::string actor;
  int64_t timestamp_ms = 0;
  std::string note;  // the approval document or the reason for rejecting
};

struct BatchReview {
  std::string batch_id, fund, fund_name, bucket, status;
  int32_t period = 0;
  size_t line_count = 0;
  int64_t total_fen = 0;
  ReviewStep prepared;   // index set by ReviewBatch; actor, time and note by the caller
  ReviewStep decided;    // index 0 while the batch waits
  uint64_t read_at = 0;  // the log size the review reflects
  std::vector<ReviewTotal> by_program, by_region;
  int32_t previous_period = 0;
  std::vector<std::string> previous_batches;
  size_t previous_line_count = 0;
  int64_t previous_total_fen = 0;
  ReviewChange added, dropped, changed;
  size_t people_added = 0, people_dropped = 0;
  std::vector<ReviewLine> sample;  // at most kReviewSampleLinesMax, spread evenly over the roll
};

// The review of batch `batch_id` as of `at`; region names from `region_names` (code -> name).
// NotFound for a batch that does not exist.
Status ReviewBatch(const DomainState& at, const std::string& batch_id,
                   const std::map<std::string, std::string>& region_names, BatchReview* review);

// The review as the API answers it; money in fen and as yuan strings ("1045.00").
boost::json::object BatchReviewJson(const BatchReview& review);

}  // namespace fundledger
