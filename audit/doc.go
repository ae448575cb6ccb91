// Package audit reads the kernel's seccomp audit records (type 1326,
// AUDIT_SECCOMP) from the kernel log (/dev/kmsg) or from auditd's log
// (/var/log/audit/audit.log), decodes them (the syscall named for its own
// architecture, the action from the filter's return code) and groups them.
//
// The kernel writes a record when a filter returns LOG, or any action
// other than ALLOW when the filter was installed with
// SECCOMP_FILTER_FLAG_LOG, as long as the action is listed in
// /proc/sys/kernel/seccomp/actions_logged (KILL_* are always logged when
// audit is enabled). Without auditd the records go through printk, which
// the kernel rate-limits (kernel.printk_ratelimit, kernel.printk_ratelimit_burst):
// the records it drops are only counted in "callbacks suppressed" lines.
// Entries carry those notices as Loss values so that callers can say that
// records are missing.
package audit
