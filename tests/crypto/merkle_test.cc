// The Merkle tree against a naive recursive RFC 6962 implementation: every tree size 0..300
// and every index pair, then randomized large trees, then proofs that must fail.
#include "crypto/merkle.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace fundledger {
namespace {

constexpr uint64_t kExhaustiveSizeMax = 300;

// RFC 6962 section 2.1, written as the RFC states it, over a fixed sequence of leaves.
class NaiveTree {
 public:
  explicit NaiveTree(uint64_t leaves) {
    for (uint64_t i = 0; i < leaves; ++i) {
      std::string data = "leaf-" + std::to_string(i);
      leaf_hashes_.push_back(HashLeaf(AsBytes(data)));
    }
  }
  const Hash& leaf(uint64_t i) const { return leaf_hashes_[i]; }

  // MTH(D[a:b]); memoized because every tree size reuses the same subranges.
  Hash Mth(uint64_t a, uint64_t b) {
    if (b == a) return EmptyTreeRoot();
    if (b - a == 1) return leaf_hashes_[a];
    auto it = memo_.find({a, b});
    if (it != memo_.end()) return it->second;
    uint64_t k = 1;
    while (k * 2 < b - a) k *= 2;
    Hash h = HashChildren(Mth(a, a + k), Mth(a + k, b));
    memo_[{a, b}] = h;
    return h;
  }

  std::vector<Hash> Path(uint64_t m, uint64_t a, uint64_t b) {
    std::vector<Hash> out;
    if (b - a <= 1) return out;
    uint64_t k = 1;
    while (k * 2 < b - a) k *= 2;
    if (m - a < k) {
      out = Path(m, a, a + k);
      out.push_back(Mth(a + k, b));
    } else {
      out = Path(m, a + k, b);
      out.push_back(Mth(a, a + k));
    }
    return out;
  }

  std::vector<Hash> SubProof(uint64_t m, uint64_t a, uint64_t b, bool complete) {
    std::vector<Hash> out;
    uint64_t n = b - a;
    if (m == n) {
      if (!complete) out.push_back(Mth(a, b));
      return out;
    }
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    if (m <= k) {
      out = SubProof(m, a, a + k, complete);
      out.push_back(Mth(a + k, b));
    } else {
      out = SubProof(m - k, a + k, b, false);
      out.push_back(Mth(a, a + k));
    }
    return out;
  }

 private:
  std::vector<Hash> leaf_hashes_;
  std::map<std::pair<uint64_t, uint64_t>, Hash> memo_;
};

TEST(Merkle, ExhaustiveAgainstNaiveImplementation) {
  NaiveTree naive(kExhaustiveSizeMax);
  MemoryTree tree;
  EXPECT_EQ(tree.Root(), EmptyTreeRoot());
  for (uint64_t i = 0; i < kExhaustiveSizeMax; ++i) tree.Append(naive.leaf(i));

  for (uint64_t size = 0; size <= kExhaustiveSizeMax; ++size) {
    Hash root = naive.Mth(0, size);
    ASSERT_EQ(*TreeRoot(tree, size), root) << "size " << size;
    for (uint64_t index = 0; index < size; ++index) {
      Result<std::vector<Hash>> proof = InclusionProof(tree, index, size);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, naive.Path(index, 0, size)) << index << "/" << size;
      ASSERT_TRUE(VerifyInclusion(index, size, naive.leaf(index), *proof, root).ok())
          << index << "/" << size;
    }
    for (uint64_t old_size = 1; old_size <= size; ++old_size) {
      Result<std::vector<Hash>> proof = ConsistencyProof(tree, old_size, size);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, naive.SubProof(old_size, 0, size, true)) << old_size << "->" << size;
      ASSERT_TRUE(VerifyConsistency(old_size, size, naive.Mth(0, old_size), root, *proof).ok())
          << old_size << "->" << size;
    }
  }
}

TEST(Merkle, FrontierMatchesTreeAtEverySize) {
  NaiveTree naive(kExhaustiveSizeMax);
  MerkleFrontier frontier;
  MemoryTree tree;
  for (uint64_t i = 0; i < kExhaustiveSizeMax; ++i) {
    frontier.Append(naive.leaf(i));
    tree.Append(naive.leaf(i));
    ASSERT_EQ(frontier.Root(), naive.Mth(0, i + 1));
    Result<MerkleFrontier> loaded = MerkleFrontier::Load(tree, i + 1);
    ASSERT_TRUE(loaded.ok());
    ASSERT_EQ(loaded->Root(), frontier.Root());
  }
}

// A tree built alone from an aligned position and appended whole (as chunked verification
// joins chunks) equals the tree grown leaf by leaf: the same nodes above it, the same root.
TEST(Merkle, AppendingAnAlignedTreeEqualsAppendingItsLeaves) {
  NaiveTree naive(kExhaustiveSizeMax);
  for (uint64_t chunk : {1u, 2u, 4u, 8u, 32u}) {
    for (uint64_t left = 0; left + chunk <= kExhaustiveSizeMax; left += chunk) {
      for (uint64_t right = 1; right <= chunk && left + right <= kExhaustiveSizeMax; ++right) {
        MerkleFrontier whole, joined, part;
        std::map<std::pair<uint8_t, uint64_t>, Hash> want, got;
        for (uint64_t i = 0; i < left; ++i) {
          whole.Append(naive.leaf(i));
          joined.Append(naive.leaf(i));
        }
        for (uint64_t i = left; i < left + right; ++i) {
          whole.Append(naive.leaf(i), [&](uint8_t level, uint64_t index, const Hash& h) {
            // Nodes inside the part are its own; the join reports only those above it.
            if ((uint64_t{1} << level) > chunk) want[{level, index}] = h;
          });
          part.Append(naive.leaf(i));
        }
        ASSERT_EQ(joined.RootWith(part.Root()), naive.Mth(0, left + right)) << left << "+" << right;
        joined.AppendTree(part, [&](uint8_t level, uint64_t index, const Hash& h) {
          got[{level, index}] = h;
        });
        ASSERT_EQ(joined.size(), left + right);
        ASSERT_EQ(joined.Root(), whole.Root()) << left << "+" << right;
        ASSERT_EQ(got, want) << left << "+" << right;
      }
    }
  }
}

TEST(Merkle, RandomizedLargeTrees) {
  std::mt19937_64 rng(20261122);
  MemoryTree tree;
  constexpr uint64_t kLeaves = 200'000;
  for (uint64_t i = 0; i < kLeaves; ++i) {
    uint64_t v = rng();
    tree.Append(HashLeaf(ByteView(reinterpret_cast<const uint8_t*>(&v), sizeof v)));
  }
  for (int trial = 0; trial < 2000; ++trial) {
    uint64_t size = 1 + rng() % kLeaves;
    uint64_t index = rng() % size;
    Hash root = *TreeRoot(tree, size);
    Hash leaf = *tree.ReadNode(0, index);
    std::vector<Hash> proof = *InclusionProof(tree, index, size);
    ASSERT_TRUE(VerifyInclusion(index, size, leaf, proof, root).ok());
    if (!proof.empty()) {
      std::vector<Hash> bad = proof;
      bad[rng() % bad.size()][rng() % kHashBytes] ^= 1;
      ASSERT_FALSE(VerifyInclusion(index, size, leaf, bad, root).ok());
    }
    if (size > 1) {
      ASSERT_FALSE(VerifyInclusion((index + 1) % size, size, leaf, proof, root).ok());
    }

    uint64_t old_size = 1 + rng() % size;
    std::vector<Hash> cproof = *ConsistencyProof(tree, old_size, size);
    Hash old_root = *TreeRoot(tree, old_size);
    ASSERT_TRUE(VerifyConsistency(old_size, size, old_root, root, cproof).ok());
    if (old_size < size) {
      Hash forged = old_root;
      forged[0] ^= 0x80;
      ASSERT_FALSE(VerifyConsistency(old_size, size, forged, root, cproof).ok());
    }
  }
}

TEST(Merkle, EdgeCasePolicy) {
  MemoryTree tree;
  for (int i = 0; i < 8; ++i) tree.Append(HashLeaf(AsBytes(std::to_string(i))));
  Hash root = tree.Root();
  // Old size 0: rejected by both the prover and the verifier, even 0 -> 0.
  EXPECT_EQ(ConsistencyProof(tree, 0, 8).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(VerifyConsistency(0, 8, EmptyTreeRoot(), root, {}).ok());
  EXPECT_FALSE(VerifyConsistency(0, 0, EmptyTreeRoot(), EmptyTreeRoot(), {}).ok());
  // Equal sizes: the proof is empty and the roots must match.
  EXPECT_TRUE(ConsistencyProof(tree, 8, 8)->empty());
  EXPECT_TRUE(VerifyConsistency(8, 8, root, root, {}).ok());
  Hash other = root;
  other[5] ^= 1;
  EXPECT_FALSE(VerifyConsistency(8, 8, root, other, {}).ok());
  EXPECT_FALSE(VerifyConsistency(8, 8, root, root, std::vector<Hash>{root}).ok());
  // Shrinking is never consistent.
  EXPECT_FALSE(ConsistencyProof(tree, 8, 4).ok());
  // Nothing is included in an empty tree, and index must be below size.
  EXPECT_FALSE(InclusionProof(tree, 0, 0).ok());
  EXPECT_FALSE(InclusionProof(tree, 8, 8).ok());
  EXPECT_FALSE(VerifyInclusion(0, 0, root, {}, root).ok());
  // A proof longer than any tree needs is rejected before hashing.
  EXPECT_FALSE(VerifyInclusion(0, 8, root, std::vector<Hash>(kProofHashesMax + 1), root).ok());
}

}  // namespace
}  // namespace fundledger
