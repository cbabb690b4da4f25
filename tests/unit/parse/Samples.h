// Real samples captured on the development machine (Debian 12 userland, Linux
// 6.18.44-fc-v669, cgroup v1/v2 hybrid), copied verbatim as literals.
#pragma once

#include <string_view>

namespace ork::parse::samples {

using namespace std::string_view_literals;

// /proc/meminfo
inline constexpr std::string_view kMeminfo =
    "MemTotal:       24684084 kB\n"
    "MemFree:        24348752 kB\n"
    "MemAvailable:   24327504 kB\n"
    "Buffers:            7812 kB\n"
    "Cached:           137936 kB\n"
    "SwapCached:            0 kB\n"
    "Active:            28764 kB\n"
    "Inactive:         121364 kB\n"
    "Active(anon):       1528 kB\n"
    "Inactive(anon):    11724 kB\n"
    "Active(file):      27236 kB\n"
    "Inactive(file):   109640 kB\n"
    "Unevictable:       12340 kB\n"
    "Mlocked:           11376 kB\n"
    "SwapTotal:             0 kB\n"
    "SwapFree:              0 kB\n"
    "Zswap:                 0 kB\n"
    "Zswapped:              0 kB\n"
    "Dirty:              3708 kB\n"
    "Writeback:             0 kB\n"
    "AnonPages:         16628 kB\n"
    "Mapped:            15876 kB\n"
    "Shmem:              8872 kB\n"
    "KReclaimable:      67776 kB\n"
    "Slab:              90908 kB\n"
    "SReclaimable:      67776 kB\n"
    "SUnreclaim:        23132 kB\n"
    "KernelStack:        1368 kB\n"
    "PageTables:         1056 kB\n"
    "SecPageTables:         0 kB\n"
    "NFS_Unstable:          0 kB\n"
    "Bounce:                0 kB\n"
    "WritebackTmp:          0 kB\n"
    "CommitLimit:    12342040 kB\n"
    "Committed_AS:      62532 kB\n"
    "VmallocTotal:   34359738367 kB\n"
    "VmallocUsed:       14156 kB\n"
    "VmallocChunk:          0 kB\n"
    "Percpu:              688 kB\n"
    "AnonHugePages:         0 kB\n"
    "ShmemHugePages:        0 kB\n"
    "ShmemPmdMapped:        0 kB\n"
    "FileHugePages:         0 kB\n"
    "FilePmdMapped:         0 kB\n"
    "Balloon:               0 kB\n"
    "HugePages_Total:       0\n"
    "HugePages_Free:        0\n"
    "HugePages_Rsvd:        0\n"
    "HugePages_Surp:        0\n"
    "Hugepagesize:       2048 kB\n"
    "Hugetlb:               0 kB\n"
    "DirectMap4k:       28672 kB\n"
    "DirectMap2M:     2068480 kB\n"
    "DirectMap1G:    25165824 kB\n"sv;

// /proc/self/stat of cat
inline constexpr std::string_view kSelfStat =
    "5781 (cat) R 5730 5727 4137 0 -1 4194304 73 0 0 0 0 0 0 0 20 0 1 0 29567 3133440 366 18446744073709551615 93990310936576 93990310956457 140728882908224 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 93990310972464 93990310974080 93990576238592 140728882911442 140728882911462 140728882911462 140728882913259 0\n"sv;

// /proc/PID/stat of a workqueue kworker: the kernel prints up to 63 bytes of comm
// for these, more than TASK_COMM_LEN
inline constexpr std::string_view kKworkerStat =
    "10 (kworker/0:0H-events_highpri) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 0 -20 1 0 24 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"sv;

// /proc/2/stat
inline constexpr std::string_view kKthreaddStat =
    "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 24 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"sv;

// /proc/PID/stat of a zombie
inline constexpr std::string_view kZombieStat =
    "5771 (python3) Z 5730 5727 4137 0 -1 4227148 219 0 0 0 0 0 0 0 20 0 1 0 29537 0 0 18446744073709551615 0 0 0 0 0 0 0 16781312 2 1 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"sv;

// /proc/self/status of cat
inline constexpr std::string_view kSelfStatus =
    "Name:\tcat\n"
    "Umask:\t0022\n"
    "State:\tR (running)\n"
    "Tgid:\t5782\n"
    "Ngid:\t0\n"
    "Pid:\t5782\n"
    "PPid:\t5730\n"
    "TracerPid:\t0\n"
    "Uid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\n"
    "FDSize:\t256\n"
    "Groups:\t \n"
    "NStgid:\t5782\n"
    "NSpid:\t5782\n"
    "NSpgid:\t5727\n"
    "NSsid:\t4137\n"
    "Kthread:\t0\n"
    "VmPeak:\t    3060 kB\n"
    "VmSize:\t    3060 kB\n"
    "VmLck:\t       0 kB\n"
    "VmPin:\t       0 kB\n"
    "VmHWM:\t    1672 kB\n"
    "VmRSS:\t    1672 kB\n"
    "RssAnon:\t     112 kB\n"
    "RssFile:\t    1560 kB\n"
    "RssShmem:\t       0 kB\n"
    "VmData:\t     360 kB\n"
    "VmStk:\t     132 kB\n"
    "VmExe:\t      20 kB\n"
    "VmLib:\t    1528 kB\n"
    "VmPTE:\t      48 kB\n"
    "VmSwap:\t       0 kB\n"
    "HugetlbPages:\t       0 kB\n"
    "CoreDumping:\t0\n"
    "THP_enabled:\t1\n"
    "untag_mask:\t0xffffffffffffffff\n"
    "Threads:\t1\n"
    "SigQ:\t0/96365\n"
    "SigPnd:\t0000000000000000\n"
    "ShdPnd:\t0000000000000000\n"
    "SigBlk:\t0000000000000000\n"
    "SigIgn:\t0000000000000000\n"
    "SigCgt:\t0000000000000000\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t000001fffeffffff\n"
    "CapEff:\t000001fffeffffff\n"
    "CapBnd:\t000001fffeffffff\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t0\n"
    "Seccomp:\t0\n"
    "Seccomp_filters:\t0\n"
    "Speculation_Store_Bypass:\tvulnerable\n"
    "SpeculationIndirectBranch:\talways enabled\n"
    "Cpus_allowed:\t3\n"
    "Cpus_allowed_list:\t0-1\n"
    "Mems_allowed:\t00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000001\n"
    "Mems_allowed_list:\t0\n"
    "voluntary_ctxt_switches:\t0\n"
    "nonvoluntary_ctxt_switches:\t1\n"sv;

// /proc/2/status (kernel thread, Kthread: 1, no Vm lines)
inline constexpr std::string_view kKthreaddStatus =
    "Name:\tkthreadd\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t2\n"
    "Ngid:\t0\n"
    "Pid:\t2\n"
    "PPid:\t0\n"
    "TracerPid:\t0\n"
    "Uid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\n"
    "FDSize:\t64\n"
    "Groups:\t \n"
    "NStgid:\t2\n"
    "NSpid:\t2\n"
    "NSpgid:\t0\n"
    "NSsid:\t0\n"
    "Kthread:\t1\n"
    "Threads:\t1\n"
    "SigQ:\t0/96365\n"
    "SigPnd:\t0000000000000000\n"
    "ShdPnd:\t0000000000000000\n"
    "SigBlk:\t0000000000000000\n"
    "SigIgn:\tffffffffffffffff\n"
    "SigCgt:\t0000000000000000\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t000001ffffffffff\n"
    "CapEff:\t000001ffffffffff\n"
    "CapBnd:\t000001ffffffffff\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t0\n"
    "Seccomp:\t0\n"
    "Seccomp_filters:\t0\n"
    "Speculation_Store_Bypass:\tvulnerable\n"
    "SpeculationIndirectBranch:\talways enabled\n"
    "Cpus_allowed:\t3\n"
    "Cpus_allowed_list:\t0-1\n"
    "Mems_allowed:\t00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000001\n"
    "Mems_allowed_list:\t0\n"
    "voluntary_ctxt_switches:\t58\n"
    "nonvoluntary_ctxt_switches:\t0\n"sv;

// /proc/PID/status of a zombie (no Vm lines, Kthread: 0)
inline constexpr std::string_view kZombieStatus =
    "Name:\tpython3\n"
    "State:\tZ (zombie)\n"
    "Tgid:\t5771\n"
    "Ngid:\t0\n"
    "Pid:\t5771\n"
    "PPid:\t5730\n"
    "TracerPid:\t0\n"
    "Uid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\n"
    "FDSize:\t0\n"
    "Groups:\t \n"
    "NStgid:\t5771\n"
    "NSpid:\t5771\n"
    "NSpgid:\t5727\n"
    "NSsid:\t4137\n"
    "Kthread:\t0\n"
    "Threads:\t1\n"
    "SigQ:\t0/96365\n"
    "SigPnd:\t0000000000000000\n"
    "ShdPnd:\t0000000000000000\n"
    "SigBlk:\t0000000000000000\n"
    "SigIgn:\t0000000001001000\n"
    "SigCgt:\t0000000000000002\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t000001fffeffffff\n"
    "CapEff:\t000001fffeffffff\n"
    "CapBnd:\t000001fffeffffff\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t0\n"
    "Seccomp:\t0\n"
    "Seccomp_filters:\t0\n"
    "Speculation_Store_Bypass:\tvulnerable\n"
    "SpeculationIndirectBranch:\talways enabled\n"
    "Cpus_allowed:\t3\n"
    "Cpus_allowed_list:\t0-1\n"
    "Mems_allowed:\t00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000001\n"
    "Mems_allowed_list:\t0\n"
    "voluntary_ctxt_switches:\t1\n"
    "nonvoluntary_ctxt_switches:\t0\n"sv;

// /proc/pressure/memory
inline constexpr std::string_view kPressureMemory =
    "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"sv;

// /proc/pressure/cpu
inline constexpr std::string_view kPressureCpu =
    "some avg10=1.14 avg60=1.52 avg300=1.29 total=7355086\n"
    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"sv;

// /sys/fs/cgroup/memory/memory.stat (v1 root)
inline constexpr std::string_view kV1MemoryStat =
    "cache 9363456\n"
    "rss 5087232\n"
    "rss_huge 0\n"
    "shmem 9084928\n"
    "mapped_file 7581696\n"
    "dirty 12288\n"
    "writeback 0\n"
    "workingset_refault_anon 0\n"
    "workingset_refault_file 1119\n"
    "swap 0\n"
    "swapcached 0\n"
    "pgpgin 34213\n"
    "pgpgout 30685\n"
    "pgfault 34764\n"
    "pgmajfault 0\n"
    "inactive_anon 0\n"
    "active_anon 1531904\n"
    "inactive_file 16384\n"
    "active_file 262144\n"
    "unevictable 12636160\n"
    "hierarchical_memory_limit 9223372036854771712\n"
    "hierarchical_memsw_limit 9223372036854771712\n"
    "total_cache 149254144\n"
    "total_rss 17031168\n"
    "total_rss_huge 0\n"
    "total_shmem 9084928\n"
    "total_mapped_file 16150528\n"
    "total_dirty 3788800\n"
    "total_writeback 0\n"
    "total_workingset_refault_anon 0\n"
    "total_workingset_refault_file 98500\n"
    "total_swap 0\n"
    "total_swapcached 0\n"
    "total_pgpgin 1430998\n"
    "total_pgpgout 1394356\n"
    "total_pgfault 2567378\n"
    "total_pgmajfault 1238\n"
    "total_inactive_anon 11919360\n"
    "total_active_anon 1556480\n"
    "total_inactive_file 112246784\n"
    "total_active_file 27922432\n"
    "total_unevictable 12636160\n"sv;

// /sys/fs/cgroup/memory/memory.oom_control
inline constexpr std::string_view kV1OomControl =
    "oom_kill_disable 0\n"
    "under_oom 0\n"
    "oom_kill 0\n"sv;

// /sys/fs/cgroup/memory/memory.limit_in_bytes
inline constexpr std::string_view kV1LimitInBytes =
    "9223372036854771712\n"sv;

// /proc/self/cgroup (hybrid v1 + v2 host)
inline constexpr std::string_view kHybridCgroup =
    "9:name=systemd:/\n"
    "8:pids:/\n"
    "7:blkio:/\n"
    "6:freezer:/\n"
    "5:devices:/\n"
    "4:memory:/process_api/e8bae5173f425b1a0d965cab5b8cc9a6\n"
    "3:cpuset:/\n"
    "2:cpuacct:/\n"
    "1:cpu:/\n"
    "0::/\n"sv;

// /etc/passwd (first lines)
inline constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "bin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
    "sys:x:3:3:sys:/dev:/usr/sbin/nologin\n"
    "sync:x:4:65534:sync:/bin:/bin/sync\n"
    "games:x:5:60:games:/usr/games:/usr/sbin/nologin\n"sv;

// ---- Representative samples of formats this host does not have (written from the
// kernel / ZFS formats, not captured here) ----

// cgroup v2 memory.stat (Linux 6.1, a user session slice), abridged to the first keys
inline constexpr std::string_view kV2MemoryStat =
    "anon 1206534144\n"
    "file 3035631616\n"
    "kernel 216379392\n"
    "kernel_stack 9322496\n"
    "pagetables 25989120\n"
    "sec_pagetables 0\n"
    "percpu 1573920\n"
    "sock 8192\n"
    "vmalloc 53248\n"
    "shmem 190345216\n"
    "zswap 0\n"
    "zswapped 0\n"
    "file_mapped 611147776\n"
    "file_dirty 1916928\n"
    "file_writeback 0\n"
    "swapcached 0\n"
    "anon_thp 0\n"
    "file_thp 0\n"
    "shmem_thp 0\n"
    "inactive_anon 1218461696\n"
    "active_anon 173658112\n"
    "inactive_file 1573576704\n"
    "active_file 1271709696\n"
    "unevictable 4620288\n"
    "slab_reclaimable 162103888\n"
    "slab_unreclaimable 14937312\n"
    "slab 177041200\n"
    "workingset_refault_anon 0\n"
    "workingset_refault_file 3012\n"
    "pgfault 95314533\n"
    "pgmajfault 6471\n"sv;

// cgroup v2 memory.events
inline constexpr std::string_view kV2MemoryEvents =
    "low 0\n"
    "high 0\n"
    "max 112\n"
    "oom 4\n"
    "oom_kill 3\n"
    "oom_group_kill 0\n"sv;

// /proc/spl/kstat/zfs/arcstats (OpenZFS 2.1), abridged
inline constexpr std::string_view kArcstats =
    "13 1 0x01 123 33232 4591734416 2374587342823\n"
    "name                            type data\n"
    "hits                            4    98137391\n"
    "misses                          4    2198473\n"
    "demand_data_hits                4    34862119\n"
    "p                               4    4172898304\n"
    "c                               4    8345796608\n"
    "c_min                           4    1043224576\n"
    "c_max                           4    16691593216\n"
    "size                            4    8307195568\n"
    "compressed_size                 4    7203287552\n"
    "arc_meta_used                   4    1132462160\n"
    "memory_available_bytes          3    2374041600\n"sv;

// /proc/PID/status of a user process on Linux 5.10 (no Kthread: line), abridged
inline constexpr std::string_view kOldKernelUserStatus =
    "Name:\tfirefox-esr\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t1822\n"
    "Ngid:\t0\n"
    "Pid:\t1822\n"
    "PPid:\t1\n"
    "TracerPid:\t0\n"
    "Uid:\t1000\t1000\t1000\t1000\n"
    "Gid:\t1000\t1000\t1000\t1000\n"
    "FDSize:\t512\n"
    "VmPeak:\t 3516436 kB\n"
    "VmSize:\t 3403772 kB\n"
    "VmLck:\t       0 kB\n"
    "VmPin:\t       0 kB\n"
    "VmHWM:\t  512348 kB\n"
    "VmRSS:\t  498116 kB\n"
    "RssAnon:\t  351660 kB\n"
    "RssFile:\t  131784 kB\n"
    "RssShmem:\t   14672 kB\n"
    "VmData:\t  599216 kB\n"
    "VmSwap:\t   20480 kB\n"
    "Threads:\t91\n"sv;

// /proc/PID/status of a kernel thread on Linux 5.10 (no Kthread:, no Vm lines), abridged
inline constexpr std::string_view kOldKernelKthreadStatus =
    "Name:\tkswapd0\n"
    "Umask:\t0000\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t97\n"
    "Pid:\t97\n"
    "PPid:\t2\n"
    "Uid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\n"
    "Threads:\t1\n"sv;

// The disk ladder's inputs. /proc/self/mountinfo of a test host (a VM: virtio root
// disk 254:0), with lines of a hypervisor added (a Debian 12 host with libvirt: an
// image store on its own XFS, a FUSE mount, a bind mount, a mount point with a space,
// NFS, a read-only /boot).
inline constexpr std::string_view kDiskMountinfo =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
    "24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334432k,nr_inodes=3083608,mode=755\n"
    "25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683652k\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534\n"
    "28 27 0:25 / /mnt/sandboxing/model_tools_env/v1/python ro,nosuid,nodev,relatime - tmpfs model_tools_unavailable ro,size=4k,mode=755\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "60 27 8:17 / /var/lib/libvirt/images rw,noatime shared:30 - xfs /dev/sdb1 rw,attr2,inode64,logbufs=8,logbsize=32k,noquota\n"
    "61 27 8:2 / /boot ro,relatime shared:31 - ext4 /dev/sda2 ro\n"
    "62 27 8:1 /var/log /srv/logs\\040copy rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "63 27 0:52 / /mnt/s3 rw,nosuid,nodev,relatime shared:40 - fuse.s3fs s3fs rw,user_id=0,group_id=0,allow_other\n"
    "64 27 0:53 / /var/lib/nova/instances rw,relatime shared:41 - nfs4 10.0.0.5:/export/nova rw,vers=4.2,rsize=1048576\n"sv;
// /proc/PID/io of a process that wrote (and one that did not, from this host).
inline constexpr std::string_view kProcIo =
    "rchar: 1948736\nwchar: 734003200\nsyscr: 412\nsyscw: 11200\nread_bytes: 8192\nwrite_bytes: 734003200\n"
    "cancelled_write_bytes: 4096\n"sv;
inline constexpr std::string_view kProcIoIdle =
    "rchar: 6976\nwchar: 0\nsyscr: 10\nsyscw: 0\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n"sv;
// /proc/PID/fdinfo/N of a file opened O_WRONLY|O_LARGEFILE on this host, and of an
// O_RDWR|O_APPEND|O_CLOEXEC one with an inotify-free tail.
inline constexpr std::string_view kFdinfoWrite = "pos:\t0\nflags:\t0100001\nmnt_id:\t27\nino:\t10952901\n"sv;
inline constexpr std::string_view kFdinfoAppend = "pos:\t4096\nflags:\t02102002\nmnt_id:\t62\nino:\t131\n"sv;

}  // namespace ork::parse::samples
