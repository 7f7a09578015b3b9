// From a parsed roll (roll_parser.h) to the lines the ledger takes, against the ledger's state:
// a person named by beneficiary id or by ID number (its keyed commitment, GB 11643 check
// character first), 姓名 checked against the person's record in the vault when given, a program
// by id, by its registered name or by its common name (低保, 特困, 临时救助, ...), and then the
// ledger's own rules run over every line that got this far when any line has a problem (else the
// ledger checks them as it commits), so one round reports every problem:
// parse errors, unknown people and programs, mismatched names, and rule violations (over cap,
// deceased, duplicate, ...) together, in row order.
//
// Call inside Domain::Read (the state must not change underneath); reads the vault through
// `RollIdentities`, so tests can stand in for it.
//
//   ResolvedRoll r = domain.Read([&](const DomainState& s) {
//     return ResolveRoll(s, {batch, fund, bucket, period}, identities, std::move(*parsed)); });
//   if (r.problems.empty()) ledger.PrepareBatch(..., r.lines);
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/roll_parser.h"
#include "ledger/domain_state.h"
#include "ledger/ledger.h"

namespace fundledger {

// What the resolver reads from the vault.
struct RollIdentities {
  // The beneficiary the vault's index names for an ID number (Vault::FindPerson); nullopt when
  // no person (or only an erased one) holds it.
  std::function<Result<std::optional<std::string>>(std::string_view id_number)> person_of;
  // The name on the person's record; an error when it cannot be read (erased).
  std::function<Result<std::string>(const std::string& beneficiary)> name_of;
};

// The ledger's own: the vault's index and records.
RollIdentities LedgerIdentities(const Ledger& ledger);

// The batch the roll is for, as its rules are checked.
struct RollTarget {
  std::string batch_id;
  std::string fund;
  std::string bucket;
  int32_t period = 0;
};

struct ResolvedRoll {
  std::vector<RollLine> lines;   // every row, with ids; meaningful when `problems` is empty
  std::vector<Status> problems;  // every problem found, each with its row, sorted by row
  Status roll_problem;           // one about the roll as a whole (insufficient funds, ...)
  Amount total;                  // of `lines`, when there are no problems
};

ResolvedRoll ResolveRoll(const DomainState& state, const RollTarget& target,
                         const RollIdentities& identities, ParsedRoll roll);

// The program a cell names: its id, a program's exact name, or the common name of a category
// (低保 -> the one dibao program, preferring those `fund` may pay). An unknown_program error
// otherwise, naming the candidates when there are several.
Result<std::string> ResolveProgram(const DomainState& state, const std::string& fund,
                                   std::string_view text);

}  // namespace fundledger
