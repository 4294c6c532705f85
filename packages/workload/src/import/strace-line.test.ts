import { describe, expect, it } from 'vitest';
import { lexStraceLine, parseCall, parseFd, parseProt, parseString, splitArgs, structFields } from './strace-line.js';

describe('lexStraceLine', () => {
  it('reads the pid prefixes of -f: "[pid N]" on a terminal, "N " in an -o file', () => {
    expect(lexStraceLine('[pid 28049] close(3) = 0')).toEqual({ kind: 'call', pid: 28049, text: 'close(3) = 0' });
    expect(lexStraceLine('28049 close(3) = 0')).toEqual({ kind: 'call', pid: 28049, text: 'close(3) = 0' });
    expect(lexStraceLine('close(3) = 0')).toEqual({ kind: 'call', pid: null, text: 'close(3) = 0' });
  });

  it('drops -t, -tt, -ttt, -r timestamps and -i instruction pointers, and -T times stay for parseCall', () => {
    expect(lexStraceLine('28036 14:13:47.698385 brk(NULL) = 0x55ab98013000 <0.000108>')).toMatchObject({ pid: 28036, text: 'brk(NULL) = 0x55ab98013000 <0.000108>' });
    expect(lexStraceLine('14:13:47 brk(NULL) = 0x1000')).toMatchObject({ pid: null, text: 'brk(NULL) = 0x1000' });
    expect(lexStraceLine('1764598427.834938 brk(NULL) = 0x1000')).toMatchObject({ pid: null, text: 'brk(NULL) = 0x1000' });
    expect(lexStraceLine('12 1764598427.834938 brk(NULL) = 0x1000')).toMatchObject({ pid: 12, text: 'brk(NULL) = 0x1000' });
    expect(lexStraceLine('     0.000123 brk(NULL) = 0x1000')).toMatchObject({ pid: null, text: 'brk(NULL) = 0x1000' });
    expect(lexStraceLine('[00007f3a12345678] brk(NULL) = 0x1000')).toMatchObject({ text: 'brk(NULL) = 0x1000' });
  });

  it('splits unfinished and resumed halves', () => {
    expect(lexStraceLine('27970 wait4(-1,  <unfinished ...>')).toEqual({ kind: 'unfinished', pid: 27970, text: 'wait4(-1,' });
    expect(lexStraceLine('27970 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 27974'))
      .toEqual({ kind: 'resumed', pid: 27970, name: 'wait4', text: '[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 27974' });
  });

  it('reads exits, kills and signals', () => {
    expect(lexStraceLine('28049 +++ exited with 3 +++')).toEqual({ kind: 'exited', pid: 28049, code: 3, signal: null });
    expect(lexStraceLine('+++ killed by SIGSEGV (core dumped) +++')).toEqual({ kind: 'exited', pid: null, code: null, signal: 'SIGSEGV' });
    expect(lexStraceLine('28048 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=28049, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---'))
      .toEqual({ kind: 'signal', pid: 28048, signal: 'SIGCHLD' });
  });

  it('tells strace\'s own messages and garbage apart', () => {
    expect(lexStraceLine('strace: Process 12 attached')).toMatchObject({ kind: 'strace' });
    expect(lexStraceLine('hello world')).toMatchObject({ kind: 'garbage' });
    expect(lexStraceLine('+++ what +++')).toMatchObject({ kind: 'garbage' });
    expect(lexStraceLine('   ')).toEqual({ kind: 'blank' });
  });
});

describe('parseCall', () => {
  it('parses the arguments and a -y result with its path and -T time', () => {
    const c = parseCall('openat(AT_FDCWD</tmp>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache> <0.000168>');
    expect(c).toEqual({ name: 'openat', args: ['AT_FDCWD</tmp>', '"/etc/ld.so.cache"', 'O_RDONLY|O_CLOEXEC'], value: 3, errno: null, path: '/etc/ld.so.cache', resultText: '3</etc/ld.so.cache>' });
  });

  it('keeps an error return: the value, the errno name and the text', () => {
    const c = parseCall('mmap(NULL, 70368744177664, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (Cannot allocate memory)');
    expect(c).toMatchObject({ value: -1, errno: 'ENOMEM', resultText: '-1 ENOMEM (Cannot allocate memory)' });
  });

  it('reads hex results, "?" and strings holding ") = " and commas', () => {
    expect(parseCall('mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, 3, 0) = 0x7fa4b015f000')).toMatchObject({ value: 0x7fa4b015f000 });
    expect(parseCall('exit_group(0) = ?')).toMatchObject({ value: null, errno: null });
    expect(parseCall('write(1, "a, b) = 3\\n", 9) = 9')).toMatchObject({ args: ['1', '"a, b) = 3\\n"', '9'], value: 9 });
    expect(parseCall('close(3</a,b>) = 0')).toMatchObject({ args: ['3</a,b>'] });
    expect(parseCall('execve("/bin/true", ["true"], 0x7ffc /* 39 vars */) = 0')).toMatchObject({ args: ['"/bin/true"', '["true"]', '0x7ffc /* 39 vars */'] });
  });

  it('says why a call is not whole', () => {
    expect(parseCall('close(3')).toMatch(/truncated/);
    expect(parseCall('close(3)')).toMatch(/truncated/);
    expect(parseCall('read(3, "abc')).toMatch(/truncated/);
    expect(parseCall('close(3) = zork')).toMatch(/not a number/);
    expect(parseCall('close(3]) = 0')).toMatch(/unbalanced/);
  });
});

describe('argument helpers', () => {
  it('reads descriptors, strings, protections and struct fields', () => {
    expect(parseFd('3</usr/lib/libc.so.6>')).toEqual({ fd: 3, path: '/usr/lib/libc.so.6' });
    expect(parseFd('AT_FDCWD')).toEqual({ fd: 'cwd', path: null });
    expect(parseString('"a\\tb\\x41\\101\\""')).toBe('a\tbAA"');
    expect(parseString('"cut"...')).toBeUndefined();
    expect(parseProt('PROT_READ|PROT_EXEC')).toBe('r-x');
    expect(parseProt('PROT_NONE')).toBe('---');
    expect(parseProt('PROT_READ|PROT_GROWSDOWN')).toBeUndefined();
    expect(structFields('{flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f00, stack_size=0x9000}').get('exit_signal')).toBe('SIGCHLD');
    expect(structFields('{flags=CLONE_VM|CLONE_THREAD, exit_signal=0, stack=0x7f42} => {parent_tid=[3301]}').get('flags')).toBe('CLONE_VM|CLONE_THREAD');
    expect(splitArgs('f(a, [b, c], {d=e, f=g})', 2)).toEqual({ args: ['a', '[b, c]', '{d=e, f=g}'], end: 23 });
  });
});
