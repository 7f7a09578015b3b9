// Eligibility from the source, standards kept by effective month, the program rules and the
// ring-fences on every outflow (issue 21): each case a clerk or an auditor would try.
#include "ledger/domain_apply.h"
#include "ledger/domain_state_codec.h"
#include "ledger/id_number.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

using fb::FundKind;
using fb::ProgramCategory;

class Eligibility : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DefineProgram("dibao", ProgramCategory::dibao, 104500, 104500);
    DefineProgram("tekun", ProgramCategory::tekun, 146300, 146300, 202501, {"dibao"});
    DefineProgram("orphan", ProgramCategory::orphan, 228000, 228000, 202501, {}, 0, 18);
    DefineProgram("elderly80", ProgramCategory::elderly_allowance, 10000, 10000, 202501, {}, 80,
                  90);
    DefineProgram("elderly90", ProgramCategory::elderly_allowance, 30000, 30000, 202501, {}, 90);
    DefineProgram("temporary", ProgramCategory::temporary, 100000, 5'000'000);
    OpenFund("F-SUB", FundKind::subsidy,
             {"dibao", "tekun", "orphan", "elderly80", "elderly90", "temporary"});
    Appropriate("F-SUB", "general", 100'000'000);
  }
  // Registers `ben` with this ID number and typed birth month (0: none typed).
  Result<AppendResult> RegisterWithId(const std::string& ben, int32_t birth_month,
                                      const std::string& id_number) {
    fb::BeneficiaryRegisteredT e;
    e.beneficiary_id = ben;
    e.household_id = "H-" + ben;
    e.region_code = "110105";
    e.birth_month = birth_month;
    e.registered_date = 20250101;
    PersonalData person{"李四", id_number, "6222020200001234", "13800138000"};
    return ledger_->RegisterBeneficiary(kMaker, "reg-" + ben, e, person);
  }
  Result<AppendResult> Pay(const std::string& batch, int32_t roll_period,
                           std::vector<RollLine> lines) {
    Result<AppendResult> r = Prepare(batch, "F-SUB", "general", roll_period, std::move(lines));
    if (!r.ok()) return r;
    return Approve(batch);
  }
  // Expects a roll refused for one line with `rule`.
  void LineRejects(Result<AppendResult> r, const std::string& rule) {
    Rejects(r, "lines_rejected");
    if (r.ok()) return;
    ASSERT_EQ(r.status().details().size(), 1u) << r.status().ToString();
    EXPECT_EQ(r.status().details()[0].rule(), rule) << r.status().details()[0].ToString();
  }
  fb::ProgramStandardChangedT Standard(const std::string& program, int64_t standard_fen,
                                       int32_t effective_month) {
    fb::ProgramStandardChangedT c;
    c.program_id = program;
    c.standard_fen = standard_fen;
    c.cap_fen = standard_fen;
    c.effective_month = effective_month;
    c.document = "民政发 " + std::to_string(effective_month);
    return c;
  }
  BeneficiaryState Beneficiary(const std::string& ben) {
    return ledger_->domain().Read([&](const DomainState& s) { return s.beneficiaries.at(ben); });
  }
};

TEST(IdNumber, TheBirthDateIsDigitsSevenToFourteenOnceTheCheckCharacterIsRight) {
  std::string id = ResidentIdNumber("110105", 19900101, 17);
  Result<int32_t> born = IdNumberBirthDate(id);
  ASSERT_TRUE(born.ok()) << born.status().ToString();
  EXPECT_EQ(*born, 19900101);
  std::string typo = id;
  typo[10] = typo[10] == '0' ? '1' : '0';
  EXPECT_EQ(IdNumberBirthDate(typo).status().field(), "id_number");
  // A right check character over a date that does not exist.
  EXPECT_EQ(IdNumberBirthDate(ResidentIdNumber("110105", 19900230, 17)).status().field(),
            "id_number");
}

TEST_F(Eligibility, ATypedBirthMonthThatDisagreesWithTheIdNumberIsRefused) {
  std::string born_1990 = ResidentIdNumber("110105", 19900101, 1);
  Result<AppendResult> r = RegisterWithId("P1", 193501, born_1990);
  Rejects(r, "birth_month_mismatch");
  EXPECT_EQ(r.status().field(), "birth_month");
  // Without a typed month the ID number's is taken, and the birth date is recorded.
  Ok(RegisterWithId("P1", 0, born_1990));
  EXPECT_EQ(Beneficiary("P1").birth_month, 199001);
  EXPECT_EQ(Beneficiary("P1").birth_date, 19900101);
  // So the 90+ allowance reads the birth date of the ID number: a 35-year-old is refused.
  Enroll("P1", "elderly90", 30000);
  LineRejects(Prepare("E1", "F-SUB", "general", 202503, {{1, "P1", "elderly90", 202503, 30000}}),
              "age_limit");
  ExpectInvariants();
}

TEST_F(Eligibility, AgeBandsAreHalfOpenSoOneBandPaysInTheMonthOfTheBirthday) {
  // 90 on 15 June 2025: 89 on 1 June, 90 on 1 July.
  Ok(RegisterWithId("OLD", 193506, ResidentIdNumber("110105", 19350615, 2)));
  Enroll("OLD", "elderly80", 10000);
  Enroll("OLD", "elderly90", 30000);
  Ok(Pay("J80", 202506, {{1, "OLD", "elderly80", 202506, 10000}}));
  LineRejects(Prepare("J90", "F-SUB", "general", 202506, {{1, "OLD", "elderly90", 202506, 30000}}),
              "age_limit");
  Ok(Pay("U90", 202507, {{1, "OLD", "elderly90", 202507, 30000}}));
  LineRejects(Prepare("U80", "F-SUB", "general", 202507, {{1, "OLD", "elderly80", 202507, 10000}}),
              "age_limit");
  // An empty band is malformed.
  Result<AppendResult> empty =
      Do(ProgramDefinition(
             {"band", "band", ProgramCategory::elderly_allowance, 100, 100, 202501, {}, 90, 90}),
         kAdmin);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.status().field(), "age_max_years");
  ExpectInvariants();
}

TEST_F(Eligibility, AnOrphanInSchoolIsPaidPastEighteenOnlyThroughTheRecordedExtension) {
  // 18 on 10 March 2025.
  Ok(RegisterWithId("KID", 200703, ResidentIdNumber("110105", 20070310, 3)));
  Enroll("KID", "orphan", 228000);
  Ok(Pay("O3", 202503, {{1, "KID", "orphan", 202503, 228000}}));
  LineRejects(Prepare("O4", "F-SUB", "general", 202504, {{1, "KID", "orphan", 202504, 228000}}),
              "age_limit");
  // In full-time schooling until June 2026: recorded with the school's certificate.
  fb::EnrollmentChangedT school = EnrolmentChange("KID", "orphan", 228000, 202504, "change-KID");
  school.age_extension_to_month = 202606;
  Result<AppendResult> no_doc = Do(school);
  EXPECT_EQ(no_doc.status().field(), "age_extension_doc");
  school.age_extension_doc = "学籍证明 2025-031";
  Ok(Do(school));
  Ok(Pay("O4", 202504, {{1, "KID", "orphan", 202504, 228000}}));
  Ok(Pay("X6", 202606, {{1, "KID", "orphan", 202606, 228000}}));
  LineRejects(Prepare("X7", "F-SUB", "general", 202607, {{1, "KID", "orphan", 202607, 228000}}),
              "age_limit");
  // No extension where there is no upper age limit.
  Register("B1");
  fb::EnrolledT extended = Enrolment("B1", "dibao", 104500, 202501, "approval");
  extended.age_extension_to_month = 202612;
  extended.age_extension_doc = "certificate";
  Rejects(Do(extended), "age_extension");
  ExpectInvariants();
}

TEST_F(Eligibility, At300AMonthALineOf800IsRefusedEvenUnderTheCap) {
  Register("B1");
  Enroll("B1", "dibao", 30000);
  Result<AppendResult> r =
      Prepare("R3", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 80000}});
  LineRejects(r, "above_enrolled_amount");
  EXPECT_EQ(r.status().details()[0].field(), "amount_fen");
  Ok(Pay("R3", 202503, {{1, "B1", "dibao", 202503, 30000}}));
  // Back pay: only for months enrolled and not yet paid.
  Ok(Pay("R4", 202504,
         {{1, "B1", "dibao", 202501, 30000},
          {2, "B1", "dibao", 202502, 30000},
          {3, "B1", "dibao", 202504, 30000}}));
  LineRejects(Prepare("R5", "F-SUB", "general", 202505, {{1, "B1", "dibao", 202503, 30000}}),
              "duplicate_payment");
  Register("B2");
  Enroll("B2", "dibao", 30000, 202504);
  LineRejects(Prepare("R6", "F-SUB", "general", 202505, {{1, "B2", "dibao", 202503, 30000}}),
              "not_enrolled");
  ExpectInvariants();
}

TEST_F(Eligibility, ABackDatedStandardIsANewTermAndPastPaymentsKeepTheirs) {
  Register("B1");
  Enroll("B1", "dibao", 104500);
  Ok(Pay("R3", 202503, {{1, "B1", "dibao", 202503, 104500}}));
  uint64_t change_index = ledger_->log().size();
  Ok(Do(Standard("dibao", 100000, 202501), kAdmin));  // the 2025 standard, corrected down
  ledger_->domain().Read([&](const DomainState& s) {
    const ProgramState& dibao = s.programs.at("dibao");
    EXPECT_EQ(dibao.terms.size(), 2u) << "the history of standards is kept";
    EXPECT_EQ(dibao.TermAt(202503, change_index)->cap_fen, 104500) << "when March was paid";
    EXPECT_EQ(dibao.TermAt(202503)->cap_fen, 100000);
    EXPECT_EQ(dibao.TermAt(202503)->document, "民政发 202501");
    return 0;
  });
  // From now on the corrected term applies.
  LineRejects(Prepare("R4", "F-SUB", "general", 202504, {{1, "B1", "dibao", 202504, 104500}}),
              "over_cap");
  // And the history survives a snapshot and a reopen.
  std::string before = ledger_->domain().SaveState();
  Result<DomainState> decoded = ledger_->domain().Read(
      [](const DomainState& s) { return DecodeDomainState(EncodeDomainState(s)); });
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->programs.at("dibao").terms.size(), 2u);
  Reopen();
  EXPECT_EQ(ledger_->domain().SaveState(), before);
  ExpectInvariants();
}

// Enrolments are held by the names' interned ids; a snapshot writes them by name
// (beneficiary 0x1F program) and a decoded state, whose ids are numbered afresh, finds the
// same terms by name and by its own ids, and encodes to the same bytes.
TEST_F(Eligibility, EnrolmentsSurviveASnapshotWhoseIdsAreNumberedAfresh) {
  Register("B1");
  Register("B2");
  Enroll("B2", "tekun", 146300);
  Enroll("B1", "dibao", 104500);
  const std::string bytes = ledger_->domain().Read([](const DomainState& s) {
    EXPECT_NE(s.EnrollmentsOf("B1", "dibao"), nullptr);
    EXPECT_EQ(s.EnrollmentsOf("B1", "tekun"), nullptr);
    EXPECT_EQ(s.EnrollmentsOf("B9", "dibao"), nullptr) << "never interned";
    return EncodeDomainState(s);
  });
  const std::string key = std::string("B1") + '\x1f' + "dibao";  // beneficiary 0x1F program
  ASSERT_NE(bytes.find(key), std::string::npos) << "written by name";
  Result<DomainState> decoded = DecodeDomainState(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const EnrollmentTerms* terms = decoded->EnrollmentsOf("B2", "tekun");
  ASSERT_NE(terms, nullptr);
  ASSERT_EQ(terms->size(), 1u);
  EXPECT_EQ(terms->front().monthly_amount_fen, 146300);
  EXPECT_EQ(decoded->EnrollmentsOf(*decoded->names.Find("B2"), *decoded->names.Find("tekun")),
            terms);
  EXPECT_EQ(decoded->EnrollmentsOf("B2", "dibao"), nullptr);
  EXPECT_EQ(EncodeDomainState(*decoded), bytes);
  // A key without the separator is refused, not guessed at.
  std::string bad = bytes;
  bad.replace(bad.find(key), key.size(), "B1-dibao");
  Result<DomainState> refused = DecodeDomainState(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kCorruption);
}

// An approval's payment effects carry each person's region as a view of the domain's interned
// name: a state decoded from a snapshot gives the same regions, and an effect planned before
// the person moves keeps the region paid in (a replay's observers read effects on their own
// thread while the domain applies the entries after them).
TEST_F(Eligibility, PaymentEffectsKeepTheRegionPaidInAfterThePersonMoves) {
  Register("B1", "110105");
  Register("B2", "110106");
  Enroll("B1", "dibao", 104500);
  Enroll("B2", "dibao", 104500);
  Ok(Prepare("R3", "F-SUB", "general", 202503,
             {{1, "B1", "dibao", 202503, 104500}, {2, "B2", "dibao", 202503, 104500}}));
  Result<DomainState> state = ledger_->domain().Read(
      [](const DomainState& s) { return DecodeDomainState(EncodeDomainState(s)); });
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  fb::DisbursementBatchApprovedT approval;
  approval.batch_id = "R3";
  AppliedEntry planned;
  ASSERT_TRUE(PlanApproval(*state, approval, planned).ok());
  ASSERT_EQ(planned.payments.size(), 2u);
  EXPECT_EQ(planned.payments[0].region, "110105");
  EXPECT_EQ(planned.payments[1].region, "110106");

  fb::BeneficiaryChangedT moved;
  moved.beneficiary_id = "B1";
  moved.status = fb::BeneficiaryStatus::active;
  moved.effective_date = 20250401;
  moved.region_code = "110108";
  EntryMeta meta;
  meta.index = state->next_index;
  AppliedEntry applied;
  ASSERT_TRUE(ApplyEvent(*state, moved, meta, nullptr, applied).ok());
  EXPECT_EQ(planned.payments[0].region, "110105") << "the view outlives the person's change";
  AppliedEntry after;
  ASSERT_TRUE(PlanApproval(*state, approval, after).ok());
  EXPECT_EQ(after.payments[0].region, "110108");
}

TEST_F(Eligibility, TekunIsAtLeastOnePointThreeTimesDibao) {
  Result<AppendResult> r =
      Do(ProgramDefinition({"tekun-low", "特困", ProgramCategory::tekun, 60000, 60000, 202501}),
         kAdmin);
  Rejects(r, "tekun_ratio");
  EXPECT_EQ(r.status().field(), "standard_fen");
  // 1.3 x 104,500 = 135,850: exactly that is enough.
  Ok(Do(ProgramDefinition({"tekun-min", "特困", ProgramCategory::tekun, 135850, 135850, 202501}),
        kAdmin));
  // Raising dibao past tekun / 1.3 from July is refused as well.
  Rejects(Do(Standard("dibao", 110000, 202507), kAdmin), "tekun_ratio");
  Ok(Do(Standard("tekun-min", 143000, 202507), kAdmin));
  Ok(Do(Standard("dibao", 110000, 202507), kAdmin));
}

TEST_F(Eligibility, TemporaryAssistanceIsPaidOnceInTwelveMonthsByDefault) {
  Register("B1");
  Enroll("B1", "temporary", 300000);
  Ok(Pay("T3", 202503, {{1, "B1", "temporary", 202503, 300000}}));
  LineRejects(Prepare("T4", "F-SUB", "general", 202504, {{1, "B1", "temporary", 202504, 300000}}),
              "one_off_limit");
  LineRejects(Prepare("T2", "F-SUB", "general", 202502, {{1, "B1", "temporary", 202502, 300000}}),
              "one_off_limit");
  Register("B2");
  Enroll("B2", "temporary", 300000);
  Result<AppendResult> twice =
      Prepare("T5", "F-SUB", "general", 202505,
              {{1, "B2", "temporary", 202504, 300000}, {2, "B2", "temporary", 202505, 300000}});
  LineRejects(twice, "one_off_limit");
  EXPECT_EQ(twice.status().details()[0].line(), 2u);
  // Twelve months after the first, the next.
  Ok(Pay("T26", 202603, {{1, "B1", "temporary", 202603, 300000}}));
  ExpectInvariants();
}

TEST_F(Eligibility, AOneOffLimitIsConfigurableOnTheProgram) {
  fb::ProgramDefinedT p =
      ProgramDefinition({"temp2", "临时救助", ProgramCategory::temporary, 100000, 5'000'000});
  p.payments_max = 2;
  p.payments_window_months = 6;
  Ok(Do(p, kAdmin));
  OpenFund("F-TEMP", FundKind::subsidy, {"temp2"});
  Appropriate("F-TEMP", "general", 10'000'000);
  Register("B1");
  Enroll("B1", "temp2", 100000);
  auto pay = [&](const std::string& batch, int32_t month) {
    Result<AppendResult> r =
        ledger_->PrepareBatch(kMaker, "k-" + batch, batch, "F-TEMP", "general", month, "roll",
                              {{1, "B1", "temp2", month, 100000}});
    if (r.ok()) r = Approve(batch);
    return r;
  };
  Ok(pay("A1", 202501));
  Ok(pay("A3", 202503));
  Result<AppendResult> third = pay("A6", 202506);  // 202501..202506 would hold three
  Rejects(third, "lines_rejected");
  Ok(pay("A7", 202507));  // 202502..202507 holds two
  ExpectInvariants();
}

TEST_F(Eligibility, NoLineForAPeriodMoreThanOneMonthAfterTheRoll) {
  Register("B1");
  Enroll("B1", "dibao", 104500);
  Result<AppendResult> r =
      Prepare("R", "F-SUB", "general", 202506, {{1, "B1", "dibao", 203012, 104500}});
  LineRejects(r, "period_ahead");
  EXPECT_EQ(r.status().details()[0].field(), "period");
  Ok(Pay("R", 202506, {{1, "B1", "dibao", 202506, 104500}, {2, "B1", "dibao", 202507, 104500}}));
}

class RingFences : public Eligibility {
 protected:
  void SetUp() override {
    Eligibility::SetUp();
    DefineProgram("elderly-care", ProgramCategory::lottery_project, 50000, 50000);
    OpenFund("F-LOTTERY", FundKind::lottery_welfare, {"dibao", "elderly-care"},
             {"elderly-care", "child-welfare"});
    fb::AppropriatedT a = Appropriation("F-LOTTERY", "general", 10'000'000, "lottery_pool", "q1");
    Ok(Do(a));
    OpenFund("F-HOME", FundKind::trust, {}, {}, "org.home");
    Register("B1");
    Enroll("B1", "dibao", 104500);
  }
  fb::LotteryGrantAwardedT Grant(const std::string& project, const std::string& category) {
    fb::LotteryGrantAwardedT g;
    g.from_fund_id = "F-LOTTERY";
    g.from_bucket = "general";
    g.to_fund_id = "F-HOME";
    g.project_id = project;
    g.category = category;
    g.amount_fen = 1'000'000;
    g.document = "批复 " + project;
    return g;
  }
  fb::RestrictionReleasedT Release(const std::string& fund, const std::string& bucket,
                                   const std::string& to, const std::string& consent_ref) {
    fb::RestrictionReleasedT r;
    r.fund_id = fund;
    r.bucket = bucket;
    r.to_bucket = to;
    r.amount_fen = 1000;
    r.consent_ref = consent_ref;
    return r;
  }
};

TEST_F(RingFences, ALotteryFundPaysOnlyItsApprovedProjectsThroughRolls) {
  // Listed among the fund's programs, dibao is still not a lottery project.
  Result<AppendResult> r =
      Prepare("L1", "F-LOTTERY", "general", 202503, {{1, "B1", "dibao", 202503, 104500}});
  LineRejects(r, "lottery_category");
  Register("B2");
  Enroll("B2", "elderly-care", 50000);
  Ok(Prepare("L2", "F-LOTTERY", "general", 202503, {{1, "B2", "elderly-care", 202503, 50000}}));
}

TEST_F(RingFences, SubsidyMoneyPaysOnlyItsPrograms) {
  Rejects(Expense("F-SUB", "general", "office-renovation", 500000, fb::ExpenseClass::admin),
          "restricted_purpose");
  Ok(Expense("F-SUB", "general", "dibao", 500));  // the bank's fee for paying dibao
  OpenFund("F-CHARITY", FundKind::charity, {}, {}, "charity.sunshine");
  Rejects(Do(Transfer("F-SUB", "general", "F-CHARITY", "general", 1000, "transfer")),
          "restricted_purpose");
  OpenFund("F-SUB2", FundKind::subsidy, {"dibao"});
  Ok(Do(Transfer("F-SUB", "general", "F-SUB2", "general", 1000, "transfer")));
  ExpectInvariants();
}

TEST_F(RingFences, AReleasedLotteryBucketStaysLotteryMoney) {
  Ok(Do(Grant("P-CARE-1", "elderly-care"), kAdmin));
  Ok(Do(Grant("P-CARE-2", "elderly-care"), kAdmin));
  Ok(Do(Grant("P-CHILD-1", "child-welfare"), kAdmin));
  Rejects(Do(Release("F-HOME", "P-CARE-1", "general", "x")), "consent_ref_form");
  Rejects(Do(Release("F-HOME", "P-CARE-1", "general", "consent:letter-2025-1")),
          "consent_ref_form");  // lottery money needs a filing
  Rejects(Do(Release("F-HOME", "P-CARE-1", "general", "filing:民政备案2025-3")),
          "lottery_ring_fenced");
  Rejects(Do(Release("F-HOME", "P-CARE-1", "P-CHILD-1", "filing:民政备案2025-3")),
          "lottery_ring_fenced");
  Rejects(Do(Release("F-HOME", "P-CARE-1", "salaries", "filing:民政备案2025-3")),
          "lottery_ring_fenced");
  Ok(Do(Release("F-HOME", "P-CARE-1", "P-CARE-2", "filing:民政备案2025-3")));
  Rejects(Expense("F-HOME", "P-CARE-2", "salaries", 1000, fb::ExpenseClass::admin),
          "restricted_purpose");
  Ok(Expense("F-HOME", "P-CARE-2", "P-CARE-2", 1000));
  ExpectInvariants();
}

TEST_F(RingFences, ADonorRestrictionIsReleasedOnlyWithAReferenceOfTheRightForm) {
  fb::DonationReceivedT d = Donation({"F-HOME", "school-meals", "D-1", 500000, "RC-1"});
  Ok(Do(d));
  Rejects(Do(Release("F-HOME", "school-meals", "general", "x")), "consent_ref_form");
  Rejects(Do(Release("F-HOME", "school-meals", "general", "consent:letter")), "consent_ref_form");
  Ok(Do(Release("F-HOME", "school-meals", "general", "consent:DC-2025-07")));
  ExpectInvariants();
}

}  // namespace
}  // namespace fundledger::testing
