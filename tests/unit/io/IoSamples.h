// Real samples of what the I/O ladder reads (this host unless said), for the unit
// tests and the fuzzers' seeds (tests/fuzz/WriteSeeds.cpp).
#pragma once

#include <string_view>

namespace ork::parse::samples {

using namespace std::string_view_literals;

// /proc/diskstats of a 6.18 kernel (17 fields): a virtio disk, a partition of it
// (Debian's usual layout, added from the same host's format), loop devices.
inline constexpr std::string_view kDiskstats =
    "   7       0 loop0 9368 24 309984 1428 18441 20150 4443744 16716 0 11136 24459 0 0 0 0 10052 6314\n"
    "   7       1 loop1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    " 254       0 vda 548085 48373 16717282 770111 279512 321089 182024248 637785 0 153564 1470041 399216 32 175699944 61496 13253 648\n"
    " 254       1 vda1 547900 48373 16700000 770000 279500 321089 182024000 637700 0 153500 1469900 399216 32 175699944 61496 0 0\n"
    "   1       0 ram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"sv;
// The 14-field format of kernels 2.6.25-4.17 (no discard, no flush columns).
inline constexpr std::string_view kDiskstatsOld =
    "   8       0 sda 1137 53 67302 1430 3074 1942 1028114 40060 0 9504 41487\n"
    "   8       1 sda1 1094 53 64698 1411 3071 1942 1028114 40057 0 9488 41468\n"sv;

// cgroup v2 io.stat (Documentation/admin-guide/cgroup-v2.rst, "io.stat"), with the
// cost.* keys the io.cost controller adds.
inline constexpr std::string_view kIoStat =
    "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n"
    "8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021 "
    "cost.vrate=135.00 cost.usage=8103 cost.wait=125 cost.indebt=0 cost.indelay=0\n"sv;

// cgroup v1 blkio.throttle.io_service_bytes and .io_serviced of a cgroup that wrote
// 4 MiB to a loop device (7:0) with O_DIRECT under a write limit and read 8 KiB back
// (this host, kernel 6.18; without any limit the files count the same way here).
inline constexpr std::string_view kBlkioBytes =
    "7:0 Read 8192\n7:0 Write 4194304\n7:0 Sync 4202496\n7:0 Async 0\n7:0 Discard 0\n7:0 Total 4202496\n"
    "Total 4202496\n"sv;
inline constexpr std::string_view kBlkioIos =
    "7:0 Read 2\n7:0 Write 64\n7:0 Sync 66\n7:0 Async 0\n7:0 Discard 0\n7:0 Total 66\nTotal 66\n"sv;

}  // namespace ork::parse::samples
