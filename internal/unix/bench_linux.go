//go:build linux

package unix

import "golang.org/x/sys/unix"

// AllowedCPUs returns the CPUs the calling thread may run on
// (sched_getaffinity(2)), in increasing order.
func AllowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, err
	}
	var cpus []int
	for i := 0; i < len(set)*64; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

// PinToCPU restricts the calling thread to one CPU (sched_setaffinity(2));
// the caller should hold runtime.LockOSThread.
func PinToCPU(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(0, &set)
}
