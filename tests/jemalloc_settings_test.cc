// The programs' jemalloc settings (jemalloc_settings.cc), read back from the server program
// itself: jemalloc prints its options at exit when MALLOC_CONF asks for its statistics.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace {

std::string JemallocOptionsOfTheServer() {
  const std::string command =
      std::string("MALLOC_CONF=stats_print:true '") + FUNDLEDGER_CLI_PATH + "' --help 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  if (pipe == nullptr) return "";
  std::string out;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  EXPECT_EQ(pclose(pipe), 0);
  return out;
}

TEST(JemallocSettings, LargeBuffersStayInTheOrdinaryArenasAndDecayAsUsual) {
  const std::string options = JemallocOptionsOfTheServer();
  ASSERT_NE(options.find("opt.dirty_decay_ms:"), std::string::npos) << options.substr(0, 400);
  // No eager-purging arena for allocations of 8 MiB and more: a roll's large buffers are reused.
  EXPECT_NE(options.find("opt.oversize_threshold: 0\n"), std::string::npos);
  // Freed pages still go back to the kernel after jemalloc's usual decay.
  EXPECT_NE(options.find("opt.dirty_decay_ms: 10000 "), std::string::npos);
}

}  // namespace
