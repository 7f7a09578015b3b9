#include <boost/json.hpp>

#include "api/entry_json.h"
#include "api/event_json.h"
#include "api/service.h"
#include "crypto/tlog_tiles.h"

namespace fundledger {
namespace json = boost::json;

HttpResponse Service::GetEntry(Context& c) {
  Result<uint64_t> index = U64Param(c.params, "index");
  if (!index.ok()) return ErrorResponse(index.status());
  Result<Bytes> bytes = ledger_.log().ReadEntry(*index);
  if (!bytes.ok()) return ErrorResponse(bytes.status());
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
  return JsonResponse(200, json::serialize(*view));
}

HttpResponse Service::Checkpoint(Context&) {
  Result<std::string> note = ledger_.log().LatestCheckpoint();
  if (!note.ok()) return ErrorResponse(note.status());
  HttpResponse r = TextResponse(200, *note);
  r.cache_control = "no-cache";
  return r;
}

HttpResponse Service::Key(Context&) { return TextResponse(200, ledger_.log().vkey() + "\n"); }

HttpResponse Service::ProveInclusion(Context& c) {
  Result<uint64_t> index = U64Param(c.params, "index");
  Result<uint64_t> size = U64Param(c.params, "size");
  if (!index.ok()) return ErrorResponse(index.status());
  if (!size.ok()) return ErrorResponse(size.status());
  Result<std::vector<Hash>> proof = ledger_.log().ProveInclusion(*index, *size);
  if (!proof.ok()) return ErrorResponse(proof.status());
  Result<Hash> leaf = ledger_.log().ReadNode(0, *index);
  Result<Hash> root = TreeRoot(ledger_.log(), *size);
  if (!leaf.ok()) return ErrorResponse(leaf.status());
  if (!root.ok()) return ErrorResponse(root.status());
  return JsonResponse(200,
                      json::serialize(InclusionProofJson(*index, *size, *leaf, *proof, *root)));
}

HttpResponse Service::ProveConsistency(Context& c) {
  Result<uint64_t> old_size = U64Param(c.params, "old");
  Result<uint64_t> size = U64Param(c.params, "size");
  if (!old_size.ok()) return ErrorResponse(old_size.status());
  if (!size.ok()) return ErrorResponse(size.status());
  Result<std::vector<Hash>> proof = ledger_.log().ProveConsistency(*old_size, *size);
  if (!proof.ok()) return ErrorResponse(proof.status());
  Result<Hash> old_root = TreeRoot(ledger_.log(), *old_size);
  Result<Hash> root = TreeRoot(ledger_.log(), *size);
  if (!old_root.ok()) return ErrorResponse(old_root.status());
  if (!root.ok()) return ErrorResponse(root.status());
  return JsonResponse(
      200, json::serialize(ConsistencyProofJson(*old_size, *size, *proof, *old_root, *root)));
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
  const uint64_t first = ref->index * kTileWidth;
  HttpResponse r;
  r.content_type = "application/octet-stream";
  r.cache_control = width == kTileWidth ? "public, max-age=31536000, immutable" : "no-cache";
  if (ref->level < 0) {
    if (first + width > size)
      return ErrorResponse(NotFound("entry bundle " + path + " is beyond the log"));
    std::vector<Bytes> entries;
    Status s = ledger_.log().ScanEntries(first, first + width, [&](uint64_t, ByteView bytes) {
      entries.emplace_back(bytes.begin(), bytes.end());
      return Status::Ok();
    });
    if (!s.ok()) return ErrorResponse(s);
    r.body = EncodeEntryBundle(std::vector<ByteView>(entries.begin(), entries.end()));
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
