#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "core/thread_pool.h"

TEST(CoreThreadPool, EveryThreadRunsItsSliceOnce) {
  for (int n : {1, 2, 3, 5}) {
    ck::ThreadPool pool(n);
    std::vector<int> hits(1000, 0);
    for (int rep = 0; rep < 50; ++rep) {
      pool.run([&](int ith, int nth) {
        EXPECT_EQ(nth, n);
        auto [b, e] = ck::split_range(hits.size(), ith, nth);
        for (size_t i = b; i < e; ++i) hits[i] += 1;
      });
    }
    for (int h : hits) EXPECT_EQ(h, 50);
  }
}

TEST(CoreThreadPool, SplitRangeCoversExactly) {
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 1000u})
    for (int nth = 1; nth <= 6; ++nth) {
      size_t covered = 0, prev_end = 0;
      for (int ith = 0; ith < nth; ++ith) {
        auto [b, e] = ck::split_range(n, ith, nth);
        EXPECT_LE(b, e);
        EXPECT_EQ(b, ith == 0 ? 0 : prev_end);
        covered += e - b;
        prev_end = e;
      }
      EXPECT_EQ(covered, n);
    }
}

TEST(CoreThreadPool, ExceptionsPropagateToCaller) {
  ck::ThreadPool pool(2);
  EXPECT_THROW(pool.run([](int ith, int) {
    if (ith == 1) throw std::runtime_error("boom");
  }),
               std::runtime_error);
  std::atomic<int> n{0};
  pool.run([&](int, int) { n++; });
  EXPECT_EQ(n.load(), 2);
}

TEST(CoreThreadPool, PhysicalCoresIsPositive) { EXPECT_GE(ck::ThreadPool::physical_cores(), 1); }
