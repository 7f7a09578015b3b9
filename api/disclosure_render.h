// Rendering disclosure reports: canonical JSON (whose SHA-256 a DisclosurePublished entry
// holds), CSV, and the HTML page the public reads, in Chinese or English.
#pragma once

#include <map>
#include <string>

#include "ledger/ledger.h"
#include "projections/disclosure.h"

namespace fundledger {

// HTML-escapes `s`. Text inside an element needs only < > & escaped, so a page can carry JSON
// readably, quotes and all; an attribute value needs its quotes escaped too. With `in_attribute`
// the result is also valid XML text and attribute content (the IATI export uses it).
std::string HtmlEscape(std::string_view s, bool in_attribute = true);

// The report's format, its "format" field. v2 added "reconciliation": opening_fen, inflows and
// outflows (every line of kInflowLines / kOutflowLines, in fen) and closing_fen, which satisfy
// opening + inflows - outflows = closing; spending figures are net of corrections (see
// projections/disclosure.h). A reader refuses another format and a report that does not
// reconcile.
inline constexpr const char* kDisclosureFormat = "fundledger-disclosure-v2";

// Canonical: fixed key order, integers only, no whitespace. The published hash is over these bytes.
std::string DisclosureJson(const DisclosureReport& report);
Result<DisclosureReport> DisclosureFromJson(std::string_view json);
std::string DisclosureCsv(const DisclosureReport& report);
// The page a reader sees: the report's exact bytes (`report_json`, as hashed) embedded in it
// and the page script (DisclosurePageScript), which draws every figure from those bytes after
// verifying them. lang: "zh" | "en", the first language shown. `index` is the
// DisclosurePublished entry; 0 is a preview (not published, not verified) with the script
// inline, so the file stands alone.
std::string DisclosureHtml(std::string_view report_json, const std::string& lang, uint64_t index);

// The public site: the list of published disclosures, and the shared page chrome.
struct PublishedDisclosure {
  uint64_t index = 0;
  std::string organisation, fund, period, schedule_item, sha256;
  int64_t timestamp_ms = 0;
  uint64_t corrects_index = 0;
  std::string fund_name;  // what the list shows; empty: the fund id (or the organisation)
};
std::string DisclosureListHtml(const std::vector<PublishedDisclosure>& list,
                               const std::string& origin, const std::string& lang);
// api/web/disclosure_page.js, embedded at build time; served at /static/verify.js.
const char* DisclosurePageScript();

// What publishing a report (api/disclosure_publication.h) appended: the entry, the report's
// hash, the checkpoint it was computed at and how many entries it covers.
struct PublicationResult {
  AppendResult entry;
  std::string sha256;
  uint64_t checkpoint_size = 0;
  size_t entries = 0;
};
// Names for the codes a report shows (DisclosureReport::names): programs from their
// definitions, regions from <data dir>/region-names.tsv ("code<TAB>name" lines, '#' comments;
// absent: regions stay codes). A malformed line is an InvalidArgument naming it.
inline constexpr const char* kRegionNamesFile = "region-names.tsv";
Status NameCodes(const Ledger& ledger, const std::string& data_dir, DisclosureReport& report);
// Every code -> name of <data dir>/region-names.tsv (empty when the file is absent).
Result<std::map<std::string, std::string>> ReadRegionNames(const std::string& data_dir);

// Published report texts, content-addressed: <data dir>/disclosures/<sha256 hex>.json.
Result<std::string> StoreDisclosureText(const std::string& data_dir,
                                        const std::string& text);  // -> sha hex
Result<std::string> LoadDisclosureText(const std::string& data_dir, const std::string& sha256_hex);

}  // namespace fundledger
