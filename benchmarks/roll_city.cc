#include "benchmarks/roll_city.h"

#include <cstdlib>
#include <iostream>

#include "api/city_builder.h"

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
  const Actor admin{"admin", fb::Role::admin};
  CityBuilder city(ledger, {.key_prefix = "roll-city-", .admin = admin, .maker = admin});
  fb::AppropriatedT money =  // twice: 20 billion yuan, some fifteen million lines
      Appropriation("F", "general", 1'000'000'000'000, "treasury", "budget");
  Check(
      city.Submit(admin, {ProgramDefinition(
                              {.id = "dibao", .standard_fen = kMonthlyFen, .cap_fen = kMonthlyFen}),
                          FundOpening({.id = "F", .programs = {"dibao"}}), money, money}),
      "setup");
  UniformCityOptions options{.people = people, .programs = {{"dibao", kMonthlyFen}}};
  Check(city.AddPeople(UniformPeople(options, ledger.vault()), kPeoplePerSubmission), "people");
}

std::vector<RollLine> RollLines(size_t count, int32_t period, size_t first) {
  return UniformRollLines("B", "dibao", kMonthlyFen, period, count, first);
}

}  // namespace fundledger::bench
