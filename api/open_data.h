// Open-data exports of the log, in the formats the standards' own validators accept (the
// official schemas are in ../shared/schemas/, with where they came from; tests validate the
// demo city's exports against them):
//   360Giving 1.4 (threesixtygiving.org), a JSON grant package: the lottery fund's grants to
//     organisations, and the payments of each approved roll aggregated per program and county
//     as grants to individuals (recipientIndividual "Individual Recipient", toIndividualsDetails
//     with 360Giving's reason and purpose codes), never a person's name, id or ID number.
//   IATI 2.03 (iatistandard.org), an iati-activities XML file: one activity per fund, with its
//     incoming funds (1), disbursements (3) and expenditure (4) as transactions.
// Every date is a business date (projections/business_date.h): a roll's period, a receipt or
// value date, never the day the entry was posted. Amounts are decimal yuan written from integer
// fen (no floating point).
//
// Identifiers. The publisher is identified by its org-id (org-id.guide: a registration agency
// of IATI's OrganisationRegistrationAgency codelist, '-', the organisation's number there; for
// a Chinese organisation CN-USCI and its 18-character 统一社会信用代码), configured with
// `fundledger serve --org-id` (and `--org` for the organisation of the ledger it is). 360Giving
// identifiers are `360G-` identifiers under the publisher's 360Giving prefix (`--360g-prefix`;
// default "360G-" + the org-id): grants "<prefix>-<entry index>" or "<prefix>-<batch>-<program>-
// <county>", organisations of the ledger without a known org-id "<prefix>-ORG-<organisation>",
// aggregated individuals "<prefix>-IND-<batch>-<program>-<county>". IATI activities are
// "<org-id>-<fund id>". dataSource is the entry's URL under `base_url`.
//
// Both are pure functions of the first `size` entries (the caller's observed log size, which
// the answer then reflects) and the publisher; safe from any thread that may read the log.
#pragma once

#include <string>

#include "ledger/log_source.h"

namespace fundledger {

struct OpenDataPublisher {
  std::string org_id;         // "CN-USCI-12320100466001234X"; empty: not configured
  std::string organisation;   // the ledger's organisation it identifies; empty: none
  std::string giving_prefix;  // 360Giving prefix ("360G-..."); empty: "360G-" + org_id
  std::string base_url;       // e.g. "https://ledger.example.cn"; empty: "https://" + origin
};

// Ok for an org-id of the form AGENCY-NUMBER (agency: two upper-case letters, '-', upper-case
// letters; number: letters, digits and '-'), and a 360Giving prefix "360G-" followed by letters,
// digits and '-'; otherwise InvalidArgument naming the field (org_id, giving_prefix). A publisher
// without an org-id is refused by both exports (Conflict: nothing identifies the publisher).
Status CheckPublisher(const OpenDataPublisher& publisher);

Result<std::string> Giving360Json(const LogSource& log, uint64_t size, const std::string& origin,
                                  const OpenDataPublisher& publisher);
Result<std::string> IatiActivitiesXml(const LogSource& log, uint64_t size,
                                      const std::string& origin,
                                      const OpenDataPublisher& publisher);

}  // namespace fundledger
