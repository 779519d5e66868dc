/* fault.h — kill points for the fault tests (t/faults/, make check-faults).
 * A build with -DDBGUARD_FAULTS (make faults: build-faults/, bin-faults/)
 * stops the program with SIGKILL at the step that DBGUARD_FAULT names, e.g.
 * DBGUARD_FAULT=snap.renamed, or at its Nth passage with "snap.renamed@2".
 * In every other build, the shipped programs included, fault_point is
 * nothing and the environment is never read. */
#ifndef DBGUARD_FAULT_H
#define DBGUARD_FAULT_H

#ifdef DBGUARD_FAULTS
void fault_point(const char *step);
#else
static inline void fault_point(const char *step) { (void)step; }
#endif

#endif
