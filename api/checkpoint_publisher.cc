#include "api/checkpoint_publisher.h"

#include <fmt/core.h>

#include <filesystem>

#include "api/shared_file.h"
#include "crypto/checkpoint.h"
#include "witness/text_file.h"

namespace fundledger {
namespace {

bool SameKey(const NoteVerifier& a, const NoteVerifier& b) {
  return a.name == b.name && a.key_id == b.key_id && a.algorithm == b.algorithm &&
         a.key.public_key() == b.key.public_key();
}

}  // namespace

Result<std::unique_ptr<CheckpointPublisher>> CheckpointPublisher::Open(
    const Log& log, CheckpointPublisherOptions options) {
  assert(options.transport != nullptr);
  bool named = false;
  for (const PolicyLog& l : options.policy.logs()) named = named || SameKey(l.key, log.verifier());
  if (!named) {
    return InvalidArgument("the witness policy has no `log` line with this ledger's key " +
                           log.vkey())
        .WithField("policy");
  }
  std::unique_ptr<CheckpointPublisher> p(new CheckpointPublisher(log, std::move(options)));
  if (!std::filesystem::exists(p->options_.path)) return p;
  Result<std::string> stored =
      ReadTextFile(p->options_.path, kNoteBytesMax, "the published checkpoint");
  Result<PublishedCheckpoint> checked = stored.ok() ? CheckPolicy(*stored, p->options_.policy)
                                                    : Result<PublishedCheckpoint>(stored.status());
  if (!checked.ok()) {
    if (p->options_.log) {
      p->options_.log("published checkpoint " + p->options_.path +
                      " ignored: " + checked.status().message());
    }
    return p;
  }
  MutexLock lock(p->mu_);
  p->published_ = *stored;
  p->published_size_ = checked->checkpoint.size;
  return p;
}

CheckpointPublisher::CheckpointPublisher(const Log& log, CheckpointPublisherOptions options)
    : log_(log), options_(std::move(options)) {
  MutexLock lock(mu_);
  for (const PolicyWitness& w : options_.policy.witnesses()) {
    clients_.emplace_back(WitnessEndpoint{w.key, w.url}, options_.transport,
                          options_.now_seconds ? options_.now_seconds : SystemSeconds);
    WitnessProgress p;
    p.name = w.name;
    p.url = w.url;
    progress_.push_back(std::move(p));
  }
}

CheckpointPublisher::~CheckpointPublisher() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CheckpointPublisher::Start() {
  assert(!thread_.joinable());
  thread_ = std::thread([this] { Loop(); });
}

void CheckpointPublisher::Loop() {
  std::unique_lock<std::mutex> lock(wake_mu_);
  while (!stop_) {
    lock.unlock();
    Status round = RunRound();
    if (!round.ok() && options_.log) options_.log("checkpoint not published: " + round.message());
    lock.lock();
    wake_.wait_for(lock, options_.round_interval, [this] { return stop_; });
  }
}

Status CheckpointPublisher::RunRound() {
  MutexLock round(round_mu_);
  return Round();
}

Status CheckpointPublisher::Round() {
  FL_ASSIGN_OR_RETURN(std::string note, log_.LatestCheckpoint());
  FL_ASSIGN_OR_RETURN(Checkpoint cp, OpenCheckpoint(note, log_.verifier()));
  if (cp.size <= published_size()) return Status::Ok();
  std::vector<std::string> lines;
  std::string refused;  // "; <witness>: <why>" for each that did not cosign
  for (size_t i = 0; i < clients_.size(); ++i) {
    if (clients_[i].endpoint().submission_prefix.empty()) continue;
    Result<std::string> line = AskWitness(i, note);
    if (line.ok()) {
      lines.push_back(*line);
    } else {
      refused += "; " + options_.policy.witnesses()[i].name + ": " + line.status().message();
    }
  }
  FL_ASSIGN_OR_RETURN(std::string cosigned, AddCosignatures(note, lines));
  Result<PublishedCheckpoint> published = CheckPolicy(cosigned, options_.policy);
  if (!published.ok()) {
    return Status(published.status().code(), "checkpoint of size " + std::to_string(cp.size) +
                                                 ": " + published.status().message() + refused);
  }
  // Durable before anyone is served it: a restart must not publish less than was shown.
  FL_RETURN_IF_ERROR(SharedFile(options_.path, "the published checkpoint").Replace(cosigned));
  MutexLock lock(mu_);
  published_ = std::move(cosigned);
  published_size_ = cp.size;
  return Status::Ok();
}

Result<std::string> CheckpointPublisher::AskWitness(size_t i, const std::string& note) {
  uint64_t believed;
  {
    MutexLock lock(mu_);
    believed = progress_[i].held_size;
  }
  ConsistencyProofSource proofs = [this](uint64_t old_size, uint64_t new_size) {
    return log_.ProveConsistency(old_size, new_size);
  };
  Result<WitnessCosignature> c = clients_[i].RequestCosignature(note, believed, proofs);
  MutexLock lock(mu_);
  WitnessProgress& p = progress_[i];
  if (!c.ok()) {
    ++p.failures;
    p.last_error = c.status().message();
    return c.status();
  }
  ++p.cosigned;
  p.held_size = c->held_size;
  p.last_error.clear();
  return c->line;
}

std::optional<std::string> CheckpointPublisher::Published() const {
  MutexLock lock(mu_);
  return published_;
}

uint64_t CheckpointPublisher::published_size() const {
  MutexLock lock(mu_);
  return published_size_;
}

std::vector<WitnessProgress> CheckpointPublisher::Witnesses() const {
  MutexLock lock(mu_);
  return progress_;
}

namespace {
// A Prometheus label value: backslash, double quote and newline escaped.
std::string LabelValue(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

// One metric with a sample per witness: Prometheus's text format groups every sample of a metric
// under its HELP and TYPE lines.
void AppendPerWitness(std::string& out, const std::vector<WitnessProgress>& witnesses,
                      const char* name, const char* type, const char* help,
                      uint64_t WitnessProgress::*field) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n", name, help, type);
  for (const WitnessProgress& w : witnesses)
    out += fmt::format("{}{{witness=\"{}\"}} {}\n", name, LabelValue(w.name), w.*field);
}
}  // namespace

std::string CheckpointPublisher::RenderMetrics() const {
  MutexLock lock(mu_);
  std::string out = fmt::format(
      "# HELP fundledger_published_checkpoint_size Size of the newest checkpoint a witness "
      "quorum cosigned.\n# TYPE fundledger_published_checkpoint_size gauge\n"
      "fundledger_published_checkpoint_size {}\n",
      published_size_);
  AppendPerWitness(out, progress_, "fundledger_witness_held_size", "gauge",
                   "The size a witness last cosigned for this log.", &WitnessProgress::held_size);
  AppendPerWitness(out, progress_, "fundledger_witness_cosignatures_total", "counter",
                   "Cosignatures received from a witness.", &WitnessProgress::cosigned);
  AppendPerWitness(out, progress_, "fundledger_witness_failures_total", "counter",
                   "Rounds in which a witness did not cosign.", &WitnessProgress::failures);
  return out;
}

}  // namespace fundledger
