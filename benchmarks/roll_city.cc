#include "benchmarks/roll_city.h"

#include <cstdlib>
#include <iostream>

#include "api/city_builder.h"

namespace fundledger::bench {
namespace {

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

void FillRollCity(Ledger& ledger, size_t people) { Check(PostRollCity(ledger, people), "city"); }

std::vector<RollLine> RollLines(size_t count, int32_t period, size_t first) {
  return UniformRollLines("B", "dibao", kRollCityMonthlyFen, period, count, first);
}

}  // namespace fundledger::bench
