// Open data the standards' own validators accept: the demo city's 360Giving package validates
// against the official JSON Schema with format checking on (Debian's python3-jsonschema), its
// IATI file against the official 2.03 XSD (xmllint) with every codelist value in the official
// codelists; identifiers a publisher can register, grants to individuals aggregated with no one
// identified, dates from the business period. The schemas are ../shared/schemas.
#include "api/open_data.h"

#include <boost/json.hpp>
#include <fstream>

#include "api/demo.h"
#include "api/service.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;

const std::string kSchemas = std::string(FUNDLEDGER_SOURCE_DIR) + "/../shared/schemas";
const std::string kValidator =
    "/usr/bin/python3 " + std::string(FUNDLEDGER_SOURCE_DIR) + "/tests/api/validate_open_data.py";

OpenDataPublisher Bureau() {
  return {"CN-USCI-11320100MB0123456X", "bureau.civil-affairs", "", "https://ledger.example.cn"};
}

class OpenDataTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DemoOptions demo;
    demo.people = 80;
    demo.months = 4;
    ASSERT_TRUE(GenerateDemoCity(*ledger_, demo).ok());
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string Giving() {
    Result<std::string> text =
        Giving360Json(ledger_->log(), ledger_->log().size(), "city.example", Bureau());
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? *text : "";
  }
  std::string Iati() {
    Result<std::string> text =
        IatiActivitiesXml(ledger_->log(), ledger_->log().size(), "city.example", Bureau());
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? *text : "";
  }
};

TEST_F(OpenDataTest, The360GivingPackageOfTheDemoCityValidates) {
  std::string text = Giving();
  CommandResult valid = RunCommand(kValidator + " 360 " + kSchemas + " " + Write("g.json", text));
  EXPECT_EQ(valid.exit_code, 0) << valid.out;
  // The validator checks formats: the file the issue found ("fundledger entry 45633" as a
  // dataSource) fails it, naming the field.
  json::object package = json::parse(text).as_object();
  json::object broken = package;
  broken["grants"].as_array()[0].as_object()["dataSource"] = "fundledger entry 45633";
  CommandResult refused = RunCommand(kValidator + " 360 " + kSchemas + " " +
                                     Write("bad.json", json::serialize(broken)));
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.out.find("dataSource"), std::string::npos) << refused.out;
}

TEST_F(OpenDataTest, GrantsFollow360GivingsRulesForIdentifiersIndividualsAndDates) {
  json::array grants = json::parse(Giving()).at("grants").as_array();
  std::map<std::string, int64_t> rolls_by_month;  // "2025-01" -> grants to individuals
  int lottery = 0;
  for (const json::value& v : grants) {
    const json::object& g = v.as_object();
    std::string id(g.at("id").as_string());
    EXPECT_TRUE(id.starts_with("360G-CN-USCI-11320100MB0123456X-")) << id;
    EXPECT_TRUE(std::string(g.at("dataSource").as_string())
                    .starts_with("https://ledger.example.cn/v1/entries/"));
    std::string funder(g.at("fundingOrganization").at(0).at("id").as_string());
    if (g.contains("recipientIndividual")) {
      // Aggregated per program and county, never a person: no beneficiary id or ID number.
      EXPECT_EQ(funder, "CN-USCI-11320100MB0123456X");
      EXPECT_EQ(g.at("recipientIndividual").at("name").as_string(), "Individual Recipient");
      EXPECT_TRUE(std::string(g.at("recipientIndividual").at("id").as_string())
                      .starts_with("360G-CN-USCI-11320100MB0123456X-IND-ROLL-"));
      EXPECT_TRUE(g.at("toIndividualsDetails").as_object().contains("primaryGrantReason"));
      rolls_by_month[std::string(g.at("awardDate").as_string()).substr(0, 7)]++;
      EXPECT_EQ(std::string(g.at("awardDate").as_string()).substr(8), "01");
    } else {
      lottery++;
      EXPECT_EQ(g.at("awardDate").as_string(), "2025-04-15");  // the grants' value date
      EXPECT_EQ(funder, "CN-USCI-11320100MB0123456X");
      EXPECT_EQ(g.at("recipientOrganization").at(0).at("id").as_string(),
                "360G-CN-USCI-11320100MB0123456X-ORG-org.welfare-home");
    }
  }
  EXPECT_EQ(lottery, 3);
  // Every month's roll, dated by its period (the demo posts them all today), each split by
  // program and county: more than one grant a month.
  ASSERT_EQ(rolls_by_month.size(), 4u);
  EXPECT_EQ(rolls_by_month.begin()->first, "2025-01");
  for (const auto& [month, n] : rolls_by_month) EXPECT_GT(n, 1) << month;
  std::string text = Giving();
  for (const char* person : {"B000001", "B000002", "\"B0000"}) {
    EXPECT_EQ(text.find(person), std::string::npos) << person;
  }
}

TEST_F(OpenDataTest, TheIatiFileOfTheDemoCityValidatesWithItsCodelists) {
  std::string path = Write("iati.xml", Iati());
  CommandResult xsd = RunCommand("xmllint --noout --schema " + kSchemas +
                                 "/iati/iati-activities-schema.xsd " + path);
  EXPECT_EQ(xsd.exit_code, 0) << xsd.out;
  CommandResult lists = RunCommand(kValidator + " iati " + kSchemas + " " + path);
  EXPECT_EQ(lists.exit_code, 0) << lists.out;
  // The XSD is really applied: an activity without its identifier fails.
  std::string text = Iati();
  size_t at = text.find("<iati-identifier>");
  text.erase(at, text.find("</iati-identifier>") + 18 - at);
  CommandResult refused = RunCommand("xmllint --noout --schema " + kSchemas +
                                     "/iati/iati-activities-schema.xsd " + Write("bad.xml", text));
  EXPECT_NE(refused.exit_code, 0) << refused.out;
}

TEST_F(OpenDataTest, IatiTransactionsCarryBusinessDates) {
  std::string text = Iati();
  for (const char* needed :
       {"<iati-activities version=\"2.03\">",
        "<iati-identifier>CN-USCI-11320100MB0123456X-F-SUBSIDY<",
        "<reporting-org ref=\"CN-USCI-11320100MB0123456X\" type=\"11\">",
        "<participating-org ref=\"CN-USCI-11320100MB0123456X\" role=\"2\"",
        "<activity-status code=\"2\"/>", "<transaction-type code=\"3\"/>",
        "<transaction-date iso-date=\"2025-01-01\"/>", "<transaction-type code=\"4\"/>",
        "<activity-date type=\"2\" iso-date=\"2025-01-01\"/>"}) {
    EXPECT_NE(text.find(needed), std::string::npos) << needed;
  }
}

TEST_F(OpenDataTest, APublisherWithoutAnOrgIdIsToldWhatToConfigure) {
  Result<std::string> none = Giving360Json(ledger_->log(), ledger_->log().size(), "c", {});
  EXPECT_EQ(none.status().code(), StatusCode::kConflict);
  EXPECT_NE(none.status().message().find("--org-id"), std::string::npos);
  OpenDataPublisher fl = Bureau();
  fl.org_id = "FL-city";  // "FL" is no registration agency of the form
  EXPECT_EQ(IatiActivitiesXml(ledger_->log(), ledger_->log().size(), "c", fl).status().field(),
            "org_id");
  // Served: /v1/open-data/iati is XML with the configured publisher.
  TokenStore tokens(dir_);
  Metrics metrics;
  ServiceOptions options;
  options.data_dir = dir_;
  options.open_data = Bureau();
  Service service(*ledger_, *projections_, tokens, metrics, options);
  HttpRequest r;
  r.method = "GET";
  r.target = "/v1/open-data/iati";
  HttpResponse iati = service.Handle(r);
  EXPECT_EQ(iati.status, 200);
  EXPECT_NE(iati.content_type.find("xml"), std::string::npos);
  EXPECT_TRUE(iati.body.starts_with("<?xml"));
}

}  // namespace
}  // namespace fundledger::testing
