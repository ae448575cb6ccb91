package report_test

import (
	"bytes"
	"image"
	"image/color"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/analysis"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/report"
	"github.com/sysfence/sysfence/syscalls"
)

var target = profile.Target{Arch: syscalls.X86_64, Kernel: profile.KernelVersion{Major: 6, Minor: 18}, Caps: profile.DefaultCaps()}

// render writes the report of Docker's default against a small profile.
func render(t *testing.T) string {
	t.Helper()
	def := profile.MustDefault()
	res, err := profile.Resolve(def, target)
	if err != nil {
		t.Fatal(err)
	}
	small, err := profile.Decode([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	base, err := profile.Resolve(small, target)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(res, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := prog.Stats()
	var buf bytes.Buffer
	err = report.Render(&buf, report.Input{Profile: "default", Target: "x86_64, kernel 6.18", Arch: syscalls.X86_64, Resolved: res,
		Audit: analysis.Audit(def, res), Baseline: "small.json", Diff: analysis.Diff(res, base), Cost: &st})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportIsSelfContained(t *testing.T) {
	data, err := os.ReadFile(render(t))
	if err != nil {
		t.Fatal(err)
	}
	html := string(data)
	for _, bad := range []string{`src="http`, `href="http`, "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("the page loads something from outside (%q)", bad)
		}
	}
	if n := strings.Count(html, `<li class="sc `); n != len(syscalls.X86_64.Names()) {
		t.Errorf("%d syscall cells, want %d", n, len(syscalls.X86_64.Names()))
	}
	for _, want := range []string{"SF201", "socket argument rules bypassed", `data-total="385"`, "Against small.json", "IPC"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// chromium finds the browser, or skips (fails in CI).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testutil.Unavailable(t, "no Chromium (apt-get install chromium; scripts/install-test-deps does)")
	return ""
}

// headless runs Chromium on the page with extra flags and returns its
// standard output and error.
func headless(t *testing.T, browser, page string, flags ...string) (string, string) {
	t.Helper()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, flags...)
	cmd := exec.CommandContext(t.Context(), browser, append(args, "file://"+page)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// TestReportRendersInChromium loads the report in headless Chromium: the
// page's own check (one cell per system call of the arch) passes, the
// console has no error, and the screenshot shows the verdict colours.
func TestReportRendersInChromium(t *testing.T) {
	browser := chromium(t)
	page := render(t)
	dom, stderr := headless(t, browser, page, "--dump-dom")
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, "CONSOLE") || strings.Contains(line, "Uncaught") {
			t.Errorf("console: %s", line)
		}
	}
	m := regexp.MustCompile(`data-total="(\d+)"[^>]*data-cells="(\d+)"[^>]*data-check="(\w+)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the page's self-check did not run:\n%.600s", dom)
	}
	total, _ := strconv.Atoi(m[1])
	if m[2] != m[1] || m[3] != "ok" || total != len(syscalls.X86_64.Names()) {
		t.Errorf("self-check: total %s, cells %s, check %s; the table has %d", m[1], m[2], m[3], len(syscalls.X86_64.Names()))
	}

	shot := filepath.Join(t.TempDir(), "report.png")
	headless(t, browser, page, "--window-size=1400,2400", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1400 || b.Dy() != 2400 {
		t.Errorf("screenshot %v, want 1400×2400", b)
	}
	// The verdict colours of the stylesheet must be on screen in quantity.
	want := map[string]color.RGBA{"allowed": {0x2f, 0x9e, 0x44, 0xff}, "conditional": {0xf0, 0x8c, 0x00, 0xff}, "blocked": {0xce, 0xd4, 0xda, 0xff}, "header": {0x1f, 0x24, 0x30, 0xff}}
	count := map[string]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			for name, c := range want {
				if near(r>>8, c.R) && near(g>>8, c.G) && near(bl>>8, c.B) {
					count[name]++
				}
			}
		}
	}
	for name, min := range map[string]int{"allowed": 20000, "conditional": 200, "blocked": 2000, "header": 5000} {
		if count[name] < min {
			t.Errorf("screenshot has %d %s pixels (sampled), want at least %d: the page did not render as designed (%v)", count[name], name, min, count)
		}
	}
	if out := os.Getenv("SYSFENCE_REPORT_SCREENSHOT"); out != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(out, data, 0o644)
	}
}

func near(v uint32, want uint8) bool {
	d := int(v) - int(want)
	return d >= -6 && d <= 6
}
