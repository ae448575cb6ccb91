/*
 * rawsys NR [A0 ... A5]: make exactly one raw system call and exit with its
 * errno as the status (0 on success). Arguments are decimal, or hex with a
 * 0x prefix, optionally negative. It writes nothing and links no libc, so
 * after execve its only calls are the probed one and exit_group. A usage
 * error exits with status 255, which no errno reaches.
 *
 * Linux x86_64 only. Built by internal/dockertest with
 *   gcc -static -nostdlib -ffreestanding -fno-stack-protector -O2 ...
 */

#define SYS_exit_group 231
#define USAGE 255

static long raw6(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static __attribute__((noreturn)) void exit_group(int status)
{
	for (;;)
		raw6(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

/* parse reads a decimal or 0x-hex number, with an optional minus sign. */
static int parse(const char *s, long *out)
{
	unsigned long v = 0, base = 10;
	int neg = 0, digits = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++, digits++) {
		unsigned long d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return 0;
		v = v * base + d;
	}
	*out = neg ? -(long)v : (long)v;
	return digits > 0;
}

__attribute__((used, noreturn)) void rawsys_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	long a[7] = {0};

	if (argc < 2 || argc > 8)
		exit_group(USAGE);
	for (long i = 1; i < argc; i++)
		if (!parse(argv[i], &a[i - 1]))
			exit_group(USAGE);
	long ret = raw6(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
	exit_group(ret < 0 && ret > -4096 ? (int)-ret : 0);
}

/* The kernel starts us with argc at the stack pointer; align and go. */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call rawsys_main\n"
	"	hlt\n");
