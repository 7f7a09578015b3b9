#include <boost/json.hpp>

#include "api/entry_json.h"
#include "api/event_json.h"
#include "api/service.h"
#include "crypto/checkpoint.h"
#include "crypto/tlog_tiles.h"

namespace fundledger {
namespace json = boost::json;
namespace {

// A JSON answer computed from the log at `log_size` entries.
HttpResponse LogJson(const Result<json::object>& answer, uint64_t log_size) {
  if (!answer.ok()) return ErrorResponse(answer.status());
  HttpResponse r = JsonResponse(200, json::serialize(*answer));
  r.log_size = log_size;
  return r;
}

// A proof's whole-number parameters: `first` ("index" or "old") and "size".
Result<std::pair<uint64_t, uint64_t>> ProofParams(const RequestParams& params, const char* first) {
  FL_ASSIGN_OR_RETURN(uint64_t a, U64Param(params, first));
  FL_ASSIGN_OR_RETURN(uint64_t size, U64Param(params, "size"));
  return std::pair(a, size);
}

}  // namespace

HttpResponse Service::GetEntry(Context& c) {
  Result<uint64_t> index = U64Param(c.params, "index");
  if (!index.ok()) return ErrorResponse(index.status());
  Result<Bytes> bytes = ledger_.log().ReadEntry(*index);
  if (!bytes.ok()) return ErrorResponse(bytes.status());
  const uint64_t log_size = ledger_.log().size();  // read after the entry: it includes it
  Result<json::object> view = EntryToJson(*index, *bytes);
  if (!view.ok()) return ErrorResponse(view.status());
  Result<EntryView> e = DecodeEntry(*bytes);
  if (e.ok()) {
    Result<std::string> payload = PayloadToJson(e->event_type, e->payload);
    if (payload.ok()) {
      boost::system::error_code ec;
      json::value p = json::parse(*payload, ec);
      if (!ec) (*view)["payload"] = std::move(p);
    }
  }
  return LogJson(view, log_size);
}

HttpResponse Service::Checkpoint(Context&) {
  const Log& log = ledger_.log();
  std::optional<std::string> published;
  if (options_.published_checkpoint) published = options_.published_checkpoint();
  Result<std::string> note = published ? Result<std::string>(*published) : log.LatestCheckpoint();
  if (!note.ok()) return ErrorResponse(note.status());
  HttpResponse r = TextResponse(200, *note);
  r.cache_control = "no-cache";
  // The size the note signs, which trails the log when checkpoints are signed on a timer.
  Result<fundledger::Checkpoint> cp = OpenCheckpoint(*note, log.verifier());
  if (cp.ok()) r.log_size = cp->size;
  return r;
}

HttpResponse Service::Key(Context&) { return TextResponse(200, ledger_.log().vkey() + "\n"); }

HttpResponse Service::ProveInclusion(Context& c) {
  Result<std::pair<uint64_t, uint64_t>> p = ProofParams(c.params, "index");
  if (!p.ok()) return ErrorResponse(p.status());
  const auto [index, size] = *p;
  return LogJson(ReadInclusionProof(ledger_.log(), index, size), size);
}

HttpResponse Service::ProveConsistency(Context& c) {
  Result<std::pair<uint64_t, uint64_t>> p = ProofParams(c.params, "old");
  if (!p.ok()) return ErrorResponse(p.status());
  const auto [old_size, size] = *p;
  return LogJson(ReadConsistencyProof(ledger_.log(), old_size, size), size);
}

HttpResponse Service::Tile(Context& c) {
  // tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]
  std::string path = c.params["path"];
  size_t slash = path.find('/');
  if (slash == std::string::npos) return ErrorResponse(NotFound("no tile " + path));
  Result<TileRef> ref = ParseTilePath(std::string_view(path).substr(0, slash),
                                      std::string_view(path).substr(slash + 1));
  if (!ref.ok())
    return ErrorResponse(InvalidArgument("tile path " + path + ": " + ref.status().message()));
  const uint64_t width = ref->width == 0 ? kTileWidth : ref->width;
  const uint64_t size = ledger_.log().size();
  // A tile index has up to 18 digits: bound it before multiplying, which could wrap.
  if (ref->index > size / kTileWidth)
    return ErrorResponse(NotFound("tile " + path + " is beyond the log"));
  const uint64_t first = ref->index * kTileWidth;
  HttpResponse r;
  r.content_type = "application/octet-stream";
  r.cache_control = width == kTileWidth ? "public, max-age=31536000, immutable" : "no-cache";
  r.log_size = size;
  if (ref->level < 0) {
    if (first + width > size)
      return ErrorResponse(NotFound("entry bundle " + path + " is beyond the log"));
    Result<std::string> bundle = ledger_.log().ReadEntryBundle(first, width);
    if (!bundle.ok()) return ErrorResponse(bundle.status());
    r.body = *std::move(bundle);
    return r;
  }
  uint64_t shift = static_cast<uint64_t>(ref->level) * kTileHeight;
  uint64_t nodes_at_level = shift >= 64 ? 0 : size >> shift;
  if (first + width > nodes_at_level)
    return ErrorResponse(NotFound("tile " + path + " is beyond the tree"));
  r.body.reserve(width * kHashBytes);
  std::unique_ptr<NodeCursor> nodes = ledger_.log().OpenNodeCursor(
      static_cast<uint8_t>(shift), first);  // the tile's nodes in order
  for (uint64_t i = 0; i < width; ++i) {
    Result<Hash> h = nodes->Next();
    if (!h.ok()) return ErrorResponse(h.status());
    r.body.append(reinterpret_cast<const char*>(h->data()), h->size());
  }
  return r;
}

}  // namespace fundledger
