#include "benchmarks/roll_city.h"

#include <cstdlib>
#include <iostream>

namespace fundledger::bench {
namespace {

constexpr int64_t kMonthlyFen = 104500;
constexpr size_t kPeoplePerSubmission = 4000;

void Check(const Status& s, const char* what) {
  if (s.ok()) return;
  std::cerr << "roll city: " << what << ": " << s.ToString() << "\n";
  std::abort();
}

}  // namespace

void BuildRollCity(RollCity& city, const std::string& dir, size_t people) {
  city.dir = dir;
  Result<std::unique_ptr<Ledger>> created =
      Ledger::Create(dir, "bench.fundledger.local", WithProjections(city.projections, {}));
  Check(created.status(), "create");
  city.ledger = std::move(created).value();
  FillRollCity(*city.ledger, people);
}

void FillRollCity(Ledger& ledger, size_t people) {
  Actor admin{"admin", fb::Role::admin};
  fb::ProgramDefinedT p;
  p.program_id = "dibao";
  p.name = "dibao";
  p.standard_fen = p.cap_fen = kMonthlyFen;
  p.effective_month = 202501;
  fb::FundOpenedT f;
  f.fund_id = "F";
  f.name = "F";
  f.organisation = "bureau";
  f.currency = "CNY";
  f.programs = {"dibao"};
  fb::AppropriatedT a;  // twice: 20 billion yuan, some fifteen million lines
  a.fund_id = "F";
  a.bucket = "general";
  a.amount_fen = 1'000'000'000'000;
  a.source = "treasury";
  a.document = "budget";
  Check(ledger.Submit(admin, "setup", {p, f, a, a}).status(), "setup");
  for (size_t start = 0; start < people; start += kPeoplePerSubmission) {
    std::vector<DomainEvent> events;
    for (size_t i = start; i < std::min(people, start + kPeoplePerSubmission); ++i) {
      fb::BeneficiaryRegisteredT b;
      b.beneficiary_id = "B" + std::to_string(i);
      b.household_id = "H" + std::to_string(i);
      b.region_code = "110105";
      Hash h = ledger.vault().IdCommitment("id-" + std::to_string(i));
      b.id_commitment.assign(h.begin(), h.end());
      b.birth_month = 196001;
      b.registered_date = 20250101;
      events.emplace_back(std::move(b));
      fb::EnrolledT e;
      e.beneficiary_id = "B" + std::to_string(i);
      e.program_id = "dibao";
      e.monthly_amount_fen = kMonthlyFen;
      e.from_month = 202501;
      e.approval_doc = "a";
      events.emplace_back(std::move(e));
    }
    Check(ledger.Submit(admin, "people-" + std::to_string(start), std::move(events)).status(),
          "people");
  }
}

std::vector<RollLine> RollLines(size_t count, int32_t period, size_t first) {
  std::vector<RollLine> lines;
  lines.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    lines.push_back({static_cast<uint32_t>(i + 1), "B" + std::to_string(first + i), "dibao", period,
                     kMonthlyFen});
  }
  return lines;
}

}  // namespace fundledger::bench
