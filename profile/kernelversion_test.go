package profile

import "testing"

func TestParseKernelAtLeast(t *testing.T) {
	tests := []struct {
		release      string
		major, minor int
		want         bool
		wantErr      bool
	}{
		{"6.18.44-fc-v782", 5, 11, true, false},
		{"5.11.0", 5, 11, true, false},
		{"5.10.220-generic", 5, 11, false, false},
		{"4.19", 5, 0, false, false},
		{"5.4rc1", 5, 4, true, false},
		{"10.0.0", 6, 1, true, false},
		{"linux", 5, 11, false, true},
		{"x.1", 5, 11, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.release, func(t *testing.T) {
			kv, err := ParseKernel(tt.release)
			got := err == nil && kv.AtLeast(KernelVersion{Major: uint64(tt.major), Minor: uint64(tt.minor)})
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseKernel(%q) ≥ %d.%d = %v, %v; want %v, error %v",
					tt.release, tt.major, tt.minor, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
