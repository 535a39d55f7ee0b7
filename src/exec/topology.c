/* Machine topology from the OS: affinity mask, cgroup CPU quota, per-core
 * L2 size. Read once (pthread_once) and cached. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec_internal.h"

#define MAX_CPUS 1024

static pthread_once_t topo_once = PTHREAD_ONCE_INIT;
static int topo_cpus[MAX_CPUS];
static int topo_ncpus = 1;
static int topo_quota = 0;
static int64_t topo_l2 = 1 << 20;

/* Reads the first line of a small text file into buf; false if missing. */
static bool read_line(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  if (!f) return false;
  bool ok = fgets(buf, (int)size, f) != NULL;
  fclose(f);
  return ok;
}

/* ceil(quota / period) for positive values, else 0. */
static int quota_cpus(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return 0;
  long long n = (quota + period - 1) / period;
  if (n > MAX_CPUS) n = MAX_CPUS;
  return (int)n;
}

/* cgroup v2 "cpu.max" ("max 100000" or "200000 100000"), then v1. */
static int read_cgroup_quota(void) {
  char buf[128];
  if (read_line("/sys/fs/cgroup/cpu.max", buf, sizeof buf)) {
    if (strncmp(buf, "max", 3) == 0) return 0;
    long long q = 0, p = 0;
    if (sscanf(buf, "%lld %lld", &q, &p) == 2) return quota_cpus(q, p);
    return 0;
  }
  static const char *const dirs[] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct",
                                     "/sys/fs/cgroup/cpuacct,cpu"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    char path[128], qb[64], pb[64];
    snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dirs[i]);
    if (!read_line(path, qb, sizeof qb)) continue;
    snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dirs[i]);
    if (!read_line(path, pb, sizeof pb)) continue;
    return quota_cpus(atoll(qb), atoll(pb));
  }
  return 0;
}

/* Size of the level-2 cache of cpu0 ("1024K", "2M"), or 0. */
static int64_t read_l2(void) {
  for (int i = 0; i < 16; i++) {
    char path[128], buf[64];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
    if (!read_line(path, buf, sizeof buf)) continue;
    if (atoi(buf) != 2) continue;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    if (!read_line(path, buf, sizeof buf)) continue;
    char *end = NULL;
    long long v = strtoll(buf, &end, 10);
    if (v <= 0) continue;
    if (end && (*end == 'K' || *end == 'k')) v <<= 10;
    else if (end && (*end == 'M' || *end == 'm')) v <<= 20;
    return v;
  }
  return 0;
}

static void topo_init(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < MAX_CPUS; c++)
      if (CPU_ISSET(c, &set)) topo_cpus[n++] = c;
    if (n > 0) topo_ncpus = n;
  }
  topo_quota = read_cgroup_quota();
  int64_t l2 = read_l2();
  if (l2 > 0) topo_l2 = l2;
}

int64_t gfi_l2_cache_bytes(void) {
  pthread_once(&topo_once, topo_init);
  return topo_l2;
}

int gfi_affinity_cpus(int *cpus, int max) {
  pthread_once(&topo_once, topo_init);
  for (int i = 0; cpus && i < max && i < topo_ncpus; i++) cpus[i] = topo_cpus[i];
  return topo_ncpus;
}

int gfi_cgroup_cpu_limit(void) {
  pthread_once(&topo_once, topo_init);
  return topo_quota;
}
