// Disclosure reports: figures a reader can check by hand, evidence that recomputes exactly,
// masked names and nothing personal, publication by hash with corrections, open-data exports
// carrying every field their standards require.
#include <boost/json.hpp>

#include "api/disclosure_publication.h"
#include "api/disclosure_render.h"
#include "api/open_data.h"
#include "api/service.h"
#include "api/shared_file.h"
#include "ledger/log_clock.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;

std::string ThisYear() {
  std::time_t secs = std::time(nullptr) + 8 * 3600;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return std::to_string(tm.tm_year + 1900);
}

class DisclosureTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    DefineProgram("orphan", fb::ProgramCategory::orphan, 228000, 228000, 202501, {}, 0, 18);
    OpenFund("F-CH", fb::FundKind::charity, {"dibao", "orphan"}, {}, "charity.one");
    OpenFund("F-OTHER", fb::FundKind::charity, {}, {}, "charity.two");
    // The money of 2025: received in January, spent in January and March (business dates).
    fb::DonationReceivedT d;
    d.fund_id = "F-CH";
    d.bucket = "general";
    d.amount_fen = 5'000'000;
    d.receipt_no = "r1";
    d.receipt_date = 20250105;
    Ok(Do(d));
    d.bucket = "meals";
    d.donor_id = "donor:D1";
    d.amount_fen = 1'000'000;
    d.receipt_no = "r2";
    Ok(Do(d));
    fb::ExpensedT meals = Expenditure(
        {"F-CH", "meals", "canteen", fb::ExpenseClass::charitable, "meals", 400'000, "i1"});
    meals.value_date = 20250120;
    Ok(Do(meals));
    fb::ExpensedT office = Expenditure(
        {"F-CH", "general", "landlord", fb::ExpenseClass::admin, "office", 100'000, "i2"});
    office.value_date = 20250120;
    Ok(Do(office));
    Register("B1", "110105", 196001, 1);
    Register("ORPHAN_B_2", "110106", 201001, 2);
    Enroll("B1", "dibao", 104500);
    Enroll("ORPHAN_B_2", "orphan", 228000);
    Ok(Prepare("R1", "F-CH", "general", 202503,
               {{1, "B1", "dibao", 202503, 104500}, {2, "ORPHAN_B_2", "orphan", 202503, 228000}}));
    Ok(Approve("R1"));
    fb::DonationReceivedT other;  // another charity: never in F-CH's report
    other.fund_id = "F-OTHER";
    other.bucket = "general";
    other.amount_fen =
        987'654'321;  // digits that no hash or time in the report will contain by chance
    other.receipt_no = "x";
    Ok(Do(other));
  }
  uint64_t Size() { return ledger_->log().size(); }
  // A service over the ledger, and a token of charity.one to publish with.
  void StartService() {
    tokens_ = std::make_unique<TokenStore>(dir_);
    charity_ = *tokens_->Add("t.charity", "charity", "charity.one");
    ServiceOptions options;
    options.data_dir = dir_;
    service_ = std::make_unique<Service>(*ledger_, *projections_, *tokens_, metrics_, options);
  }
  HttpResponse Post(const std::string& body, const std::string& key) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/v1/disclosures";
    r.authorization = "Bearer " + charity_;
    r.idempotency_key = key;
    r.body = body;
    return service_->Handle(r);
  }
  HttpResponse Get(const std::string& target) {
    HttpRequest r;
    r.method = "GET";
    r.target = target;
    return service_->Handle(r);
  }
  void TearDown() override {
    service_.reset();
    LedgerFixture::TearDown();
  }
  NameLookup Names() {
    return [this](const std::string& ben) -> std::optional<std::string> {
      Result<PersonalData> p = ledger_->ReadPersonalData(ben);
      return p.ok() ? std::optional<std::string>(p->name) : std::nullopt;
    };
  }

  std::unique_ptr<TokenStore> tokens_;
  std::string charity_;
  Metrics metrics_;
  std::unique_ptr<Service> service_;
};

TEST_F(DisclosureTest, FiguresMatchTheMovementsOfThePeriod) {
  Result<DisclosureReport> r =
      ComputeDisclosure(ledger_->log(), Size(), {"fund", "F-CH", "2025"}, Names());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->organisation, "charity.one");
  EXPECT_EQ(r->donations_count, 2);
  EXPECT_EQ(r->donations_fen, 6'000'000);
  EXPECT_EQ(r->donations_restricted_fen, 1'000'000);
  EXPECT_EQ(r->anonymous_donations, 1);
  EXPECT_EQ(r->spending_by_class.at("charitable"), 400'000);
  EXPECT_EQ(r->spending_by_class.at("admin"), 100'000);
  EXPECT_EQ(r->spending_by_class.at("payments"), 104500 + 228000);
  EXPECT_EQ(r->spending_by_purpose.at("dibao"), 104500);
  EXPECT_EQ(r->opening_fen, 0);
  EXPECT_EQ(r->closing_fen, 6'000'000 - 500'000 - 104500 - 228000);
  EXPECT_EQ(r->restricted_left.at("F-CH/meals"), 600'000);
  EXPECT_EQ(r->paid_by_program_region.at("dibao").at("110105").beneficiaries, 1);
  EXPECT_EQ(r->year_admin_fen, 100'000);
  // Roll payments are charitable spending.
  EXPECT_EQ(r->year_spending_fen, 500'000 + 104500 + 228000);
  EXPECT_EQ(r->year_charitable_fen, 400'000 + 104500 + 228000);
  // Recipients: only the publicly announced program, masked, county level; the orphan is not
  // listed.
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].masked_name, "张*明");
  EXPECT_EQ(r->recipients[0].region, "110105");
  std::string text = DisclosureJson(*r);
  // Distinctive strings: short ones turn up by chance in hashes, signatures and times.
  for (const char* secret : {"张三明", "6222020210000001", "6222020210000002", "13800138000",
                             "ORPHAN_B_2", "987654321", "9876543.21"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  }
  // The evidence recomputes: the digest is over the named entries' leaf hashes.
  EXPECT_EQ(EntriesDigest(ledger_->log(), r->entries), r->entries_digest);
  EXPECT_TRUE(OpenCheckpoint(r->checkpoint, ledger_->log().verifier()).ok());
  // JSON round trip, byte for byte.
  Result<DisclosureReport> back = DisclosureFromJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(DisclosureJson(*back), text);
  // A quarter holds less than the year; a bad period is refused with the field.
  EXPECT_EQ(ComputeDisclosure(ledger_->log(), Size(), {"fund", "F-CH", "2025-Q5"}, nullptr)
                .status()
                .field(),
            "period");
}

TEST_F(DisclosureTest, MaskedNames) {
  EXPECT_EQ(MaskName("张三明"), "张*明");
  EXPECT_EQ(MaskName("李四"), "李*");
  EXPECT_EQ(MaskName("欧阳娜娜"), "欧*娜");
  EXPECT_EQ(MaskName("Ann"), "A*n");
  EXPECT_EQ(MaskName(""), "*");
}

TEST_F(DisclosureTest, PublishedByHashCorrectableAndCheckable) {
  StartService();
  HttpResponse first = Post(R"({"scope":"fund","id":"F-CH","period":"2025"})", "p1");
  ASSERT_EQ(first.status, 201) << first.body;
  json::object f = json::parse(first.body).as_object();
  uint64_t index = f.at("index").to_number<uint64_t>();
  HttpResponse report = Get("/v1/disclosures/" + std::to_string(index));
  ASSERT_EQ(report.status, 200);
  EXPECT_EQ(HashHex(Sha256::Digest(AsBytes(report.body))), f.at("sha256").as_string());
  // The entry holds the hash; no other organisation may publish for this fund.
  EXPECT_EQ(Post(R"({"scope":"fund","id":"F-OTHER","period":"2025"})", "p2").status, 403);
  // A correction names the report it corrects.
  HttpResponse fix = Post(R"({"scope":"fund","id":"F-CH","period":"2025","corrects_index":)" +
                              std::to_string(index) + "}",
                          "p3");
  ASSERT_EQ(fix.status, 201) << fix.body;
  HttpResponse wrong = Post(
      R"({"scope":"fund","id":"F-CH","period":"2025","corrects_index":3,"confirm_empty":true})",
      "p4");
  EXPECT_EQ(wrong.status, 422) << wrong.body;
  EXPECT_NE(wrong.body.find("corrects_index"), std::string::npos) << wrong.body;
  json::array list = json::parse(Get("/v1/disclosures").body).at("disclosures").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].at("corrects_index").to_number<uint64_t>(), index);
  // The evidence verifies with our own verifier, as the browser does.
  json::object ev =
      json::parse(Get("/v1/disclosures/" + std::to_string(index) + "/evidence").body).as_object();
  Checkpoint now =
      *OpenCheckpoint(std::string(ev.at("checkpoint").as_string()), ledger_->log().verifier());
  const json::object& pub = ev.at("published").as_object();
  std::vector<Hash> proof;
  for (const json::value& h : pub.at("proof").as_array())
    proof.push_back(*HashFromHex(std::string(h.as_string())));
  Bytes raw = *Base64Decode(std::string(pub.at("raw").as_string()));
  EXPECT_TRUE(VerifyInclusion(index, now.size, HashLeaf(raw), proof, now.root).ok());
  Hash sha = *HashFromHex(std::string(f.at("sha256").as_string()));
  EXPECT_NE(std::search(raw.begin(), raw.end(), sha.begin(), sha.end()), raw.end());
  // The public page carries the report's exact bytes (HTML-escaped) for its script to verify
  // and draw; the first evidence page proves the report's tree a prefix of the latest.
  HttpResponse page = Get("/disclosures/" + std::to_string(index) + "?lang=en");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("\"closing_fen\":"), std::string::npos);
  EXPECT_NE(page.body.find("verify.js"), std::string::npos);
  ASSERT_TRUE(ev.at("consistency").is_array());
  EXPECT_TRUE(ev.at("next").is_null());
  // Evidence in pages: each holds `count` entries from `start`, the head only on the first.
  const std::string evidence = "/v1/disclosures/" + std::to_string(index) + "/evidence";
  const size_t scope = ev.at("entries").as_array().size();
  ASSERT_GE(scope, 2u);
  json::object second = json::parse(Get(evidence + "?start=1&count=1").body).as_object();
  EXPECT_EQ(second.at("entries").as_array().size(), 1u);
  EXPECT_EQ(second.at("entries").as_array()[0], ev.at("entries").as_array()[1]);
  EXPECT_FALSE(second.contains("checkpoint"));
  if (scope > 2) {
    EXPECT_EQ(second.at("next").to_number<uint64_t>(), 2u) << second;
  } else {
    EXPECT_TRUE(second.at("next").is_null()) << second;
  }
  HttpResponse zero = Get(evidence + "?count=0");
  EXPECT_EQ(zero.status, 400);
  EXPECT_NE(zero.body.find("\"field\":\"count\""), std::string::npos) << zero.body;
  EXPECT_NE(Get("/").body.find("/disclosures/" + std::to_string(index)), std::string::npos);
}

// Publication rules: a report of a period still running is published as an interim one, every
// report states its publication date, and one that moves no money needs a confirmation.
TEST_F(DisclosureTest, InterimAndEmptyReportsAreMarkedAndConfirmed) {
  StartService();
  auto text_of = [&](const HttpResponse& published) {
    uint64_t index = json::parse(published.body).at("index").to_number<uint64_t>();
    return json::parse(Get("/v1/disclosures/" + std::to_string(index)).body).as_object();
  };
  std::time_t secs = std::time(nullptr) + 8 * 3600;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char today[11];
  std::strftime(today, sizeof today, "%Y-%m-%d", &tm);
  // This year has not ended: the report is interim, dated today.
  fb::DonationReceivedT d;
  d.fund_id = "F-CH";
  d.bucket = "general";
  d.amount_fen = 20'000;
  d.receipt_no = "r-now";  // no receipt date: received when posted
  Ok(Do(d));
  HttpResponse now = Post(R"({"scope":"fund","id":"F-CH","period":")" + ThisYear() + R"("})", "i1");
  ASSERT_EQ(now.status, 201) << now.body;
  json::object report = text_of(now);
  EXPECT_EQ(report.at("interim"), json::value(true));
  EXPECT_EQ(report.at("published_on").as_string(), today);
  // 2024 moved no money of F-CH: refused, naming the confirmation, until it is given.
  HttpResponse empty = Post(R"({"scope":"fund","id":"F-CH","period":"2024"})", "i2");
  EXPECT_EQ(empty.status, 422) << empty.body;
  EXPECT_NE(empty.body.find("confirm_empty"), std::string::npos) << empty.body;
  HttpResponse confirmed =
      Post(R"({"scope":"fund","id":"F-CH","period":"2024","confirm_empty":true})", "i3");
  ASSERT_EQ(confirmed.status, 201) << confirmed.body;
  report = text_of(confirmed);
  EXPECT_EQ(report.at("interim"), json::value(false));  // 2024 has ended
  EXPECT_EQ(report.at("published_on").as_string(), today);
}

// A published report records the names of the programs and regions it shows, so the page
// shows names, not codes; the names are in the hashed bytes and survive a round trip.
TEST_F(DisclosureTest, PublishedReportNamesItsProgramsAndRegions) {
  ASSERT_TRUE(SharedFile(dir_ + "/" + kRegionNamesFile, "names")
                  .Replace("# county\tname\n110105\t朝阳区\n110106\t丰台区\n999999\tunused\n")
                  .ok());
  Result<PublicationResult> pub = PublishDisclosureReport(
      *ledger_, dir_, {{"fund", "F-CH", "2025"}, "annual"}, Names(),
      Actor{"charity.one", fb::Role::charity}, "names", SystemLogClock().NowMs());
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  Result<std::string> text = LoadDisclosureText(dir_, pub->sha256);
  ASSERT_TRUE(text.ok());
  Result<DisclosureReport> r = DisclosureFromJson(*text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->names.at("program:dibao"), "Program dibao");
  EXPECT_EQ(r->names.at("program:orphan"), "Program orphan");
  EXPECT_EQ(r->names.at("region:110105"), "朝阳区");
  EXPECT_EQ(r->names.count("region:999999"), 0u);  // only the regions the report shows
  EXPECT_EQ(DisclosureJson(*r), *text);
  // A line that is not code<TAB>name is refused, naming it; nothing is published.
  ASSERT_TRUE(SharedFile(dir_ + "/" + kRegionNamesFile, "names").Replace("110105 朝阳区\n").ok());
  Result<PublicationResult> bad = PublishDisclosureReport(
      *ledger_, dir_, {{"fund", "F-CH", "2025"}, "annual"}, Names(),
      Actor{"charity.one", fb::Role::charity}, "names-bad", SystemLogClock().NowMs());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("region-names.tsv line 1"), std::string::npos)
      << bad.status().ToString();
}

TEST_F(DisclosureTest, OpenDataCarriesTheRequiredFields) {
  fb::AppropriatedT a;
  a.fund_id = "F-CH";
  a.bucket = "general";
  a.amount_fen = 12345;
  a.source = "lottery_pool";
  a.document = "d";
  Ok(Do(a));
  OpenFund("F-LOT", fb::FundKind::lottery_welfare, {}, {"elderly-care"}, "bureau");
  a.fund_id = "F-LOT";
  a.amount_fen = 10'000'000;
  Ok(Do(a));
  fb::LotteryGrantAwardedT g;
  g.from_fund_id = "F-LOT";
  g.from_bucket = "general";
  g.to_fund_id = "F-CH";
  g.project_id = "P1";
  g.category = "elderly-care";
  g.amount_fen = 250'050;
  g.document = "g";
  Ok(Do(g));
  const OpenDataPublisher publisher{"CN-USCI-11320100MB0123456X", "bureau", "", ""};
  std::string giving = *Giving360Json(ledger_->log(), ledger_->log().size(), "city", publisher);
  json::array grants = json::parse(giving).at("grants").as_array();
  // The lottery grant, and the roll to individuals per program and county (two here).
  ASSERT_EQ(grants.size(), 3u);
  for (const json::value& v : grants) {
    const json::object& grant = v.as_object();
    for (const char* field : {"id", "title", "description", "currency", "amountAwarded",
                              "awardDate", "fundingOrganization", "dataSource"}) {
      EXPECT_TRUE(grant.contains(field)) << field;
    }
    EXPECT_NE(grant.contains("recipientOrganization"), grant.contains("recipientIndividual"));
    EXPECT_TRUE(grant.at("amountAwarded").is_number());
  }
  EXPECT_NE(giving.find("\"amountAwarded\":2500.50"), std::string::npos);  // exact, from fen
  EXPECT_EQ(giving.find("B1"), std::string::npos);                         // individuals anonymised
  EXPECT_EQ(giving.find("ORPHAN_B_2"), std::string::npos);
  std::string iati = *IatiActivitiesXml(ledger_->log(), ledger_->log().size(), "city", publisher);
  std::set<std::string> codes;
  for (size_t at = iati.find("<transaction-type code=\""); at != std::string::npos;
       at = iati.find("<transaction-type code=\"", at + 1)) {
    codes.insert(iati.substr(at + 24, iati.find('"', at + 24) - at - 24));
  }
  EXPECT_EQ(codes, (std::set<std::string>{"1", "3", "4"}));
  EXPECT_NE(iati.find(">2500.50</value>"), std::string::npos);
  EXPECT_NE(iati.find("<iati-identifier>CN-USCI-11320100MB0123456X-F-LOT</iati-identifier>"),
            std::string::npos);
}

}  // namespace
}  // namespace fundledger::testing
