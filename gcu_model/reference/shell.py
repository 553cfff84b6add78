"""Command lines on the reference host, with the output and exit status a user sees
(issue 5): the run packages, modprobe/rmmod/lsmod, writing options files, cat and echo on
sysfs, lspci, dmesg, efsmi and GcuSriovMgr (§9.4, with its help text), `docker run
--device ...` and `docker stop`, `qemu-system-x86_64 ... -device vfio-pci,host=BDF`, and
lines typed inside a VM, written `[vm0] COMMAND` (efsmi -r [flr|hot], a workload started
with `./app &` and ended with `kill %1`, `poweroff`), and processes on the host: a
program given a device node and sent to the background (`./app /dev/gcu0 &`; a tool named
`efvs` counts as the whitelisted tool of RPM-5) holds the node until `kill %N` or `kill PID`.
Output and messages name devices as the kernel does, by PCI address.

Every decision is the spec's: a command becomes one or more actions of the spec (or sysfs
writes, which are actions too); a refusal prints the spec's message on stderr and exits
1, as does a line naming a device the host has not; a line no form fits exits 2. Output
formats the guide does not show are ASSUMPTIONs of this module.
"""
from __future__ import annotations

import errno as errno_mod
import fnmatch
import math
import os
import re
import shlex
from dataclasses import dataclass

from ..spec.action import Action
from ..shell.commands import QUIRK_DIR, CommandError, bdf, card_of, parse, split_line
from ..spec.command_forms import NoDevice
from .sysfs import LiveNames, Sysfs, SysfsError, vf_bdf

KERN_LOG = "/var/log/kern.log"            # §8.5: the kernel log, as dmesg shows it

GCU_SRIOV_MGR_HELP = """Version: 0.1
Usage: sudo ./GcuSriovMgr.sh <--slot pci_slot[,pci_slot2]> [--vf-num vf_number] [--check] [--bind] [--unbind] [--query]
--slot : pci_slot[,pci_slot2] is BDF number of the device you want to manage.
--vf-num : create vf_number vfs, 0 means to destroy all vfs
--check : check sriov configuration on system
--bind : bind pcidev to vfio
--unbind : unbind pcidev from vfio
--query : query pcidev info
Example1: ./GcuSriovMgr.sh --slot 01:00.0[,02:00.0] --vf-num 4, create 4 vfs for device 01:00.0 [and 02:00.0]
Example2: ./GcuSriovMgr.sh --slot 01:00.0 --vf-num 0, delete all vfs from device 01:00.0
Example3: ./GcuSriovMgr.sh --slot 01:00.0 --check, check sriov configuration on system
Example4: ./GcuSriovMgr.sh --slot 01:00.0 --bind, bind pcidev to vfio
Example5: ./GcuSriovMgr.sh --slot 01:00.0 --unbind, unbind pcidev from vfio
Example6: ./GcuSriovMgr.sh --slot 01:00.0 --query, show pcidev info
"""


# QEMU-3: the sample access-control file (§7.5: BAR0 read-only, BAR1 unrestricted). The
# guide shows its rules but not its syntax; this text is an ASSUMPTION of the reference host.
QUIRK_SAMPLE_TEXT = """# GCU Qemu quirk: access control of the passed-through device's registers
logging = {logging}
bar0 = ro        # every BAR0 register read-only
bar1 = rw        # BAR1 unrestricted
"""


@dataclass
class Result:
    status: int
    stdout: str = ""
    stderr: str = ""


KTHREAD_PID = 300              # the first pid of the KMD's kernel threads (a sample)
MAX_SLEEP_MS = 365 * 86_400_000


def kernel_threads(host, fs) -> list:
    """[(pid, name)] of the KMD's kernel threads now: per card it drives, gcu_sched_func and
    gcu_poll_task_func, and gcu_ih_process_work_func while the card runs it (PARAM-6)."""
    view = host.view()
    out = []
    for name, card in sorted(fs.gcu_nodes().items(), key=lambda kv: kv[1].index):
        n = name[3:]
        base = KTHREAD_PID + 3 * card.index
        out += [(base, f"gcu_sched_func/{n}"), (base + 1, f"gcu_poll_task_func/{n}")]
        if view.of(card).ih_thread:
            out.append((base + 2, f"gcu_ih_process_work_func/{n}"))
    return out


def strerror(name: str) -> str:
    return os.strerror(getattr(errno_mod, name, errno_mod.EINVAL))


def at_rest(host, label) -> bool:
    """The instance's machines are in their initial state (a VM off, a container stopped)."""
    inst = host.system.layout.labels[label]
    view = host.view().of(inst)
    return all(getattr(view, m.control) in m.initial for m in host.spec.machines.values() if m.family == inst.family)


class ShellNames(LiveNames):
    """The host's names for a line, and the names this shell's user gave (a VM's by
    `qemu-system-x86_64 -name NAME`, a container's by `docker run --name NAME`, else its own
    label): surface.yaml `namer: user_name`. A name whose placeholder is `kept:` stays taken
    after its instance stops, until that line frees it (docker rm)."""

    def __init__(self, fs: Sysfs, users: dict, held: dict | None = None, freed: tuple = ()):
        super().__init__(fs)
        self.users = {n: lb for n, lb in users.items() if n not in freed}
        self.held = held or {}             # mdev UUID -> the VM holding it: not offered anew
        self.given: dict = {}              # names a line gives, kept once it succeeds

    def _given(self, placeholder):
        ph = self.fs.host.spec.surface.placeholders[placeholder]
        return ph if ph.namer == "user_name" else None

    def instance(self, placeholder, text):
        ph = self._given(placeholder)
        if ph is None:
            return super().instance(placeholder, text)
        inst = self.fs.host.system.layout.labels.get(self.users.get(text, text))
        if inst is None or inst.family != ph.family:
            raise NoDevice(f"no {ph.family} named {text}")
        return inst.label

    def name(self, placeholder, label):
        if self._given(placeholder) is None:
            ph = self.fs.host.spec.surface.placeholders[placeholder]
            if ph.namer == "mdev":          # a free one of the card's mdevs (PROD-8)
                return next((u for u, c in sorted(self.fs.mdevs().items())
                             if c.label == label and u not in self.held), None)
            return super().name(placeholder, label)
        return next((n for n, lb in sorted(self.users.items()) if lb == label), label)

    def new_instance(self, placeholder, text):
        """A name a line gives (`qemu -name NAME`): a name in use is its instance (the action
        then says whether it may start again); a new one takes the slot of that label if free,
        else the first free one; none: the first free one, by its label."""
        ph = self._given(placeholder)
        host = self.fs.host
        if ph is None:
            return self.instance(placeholder, text)
        if text in self.users:
            if ph.kept is not None:               # in use while it exists, running or stopped
                stopped = at_rest(host, self.users[text])
                raise NoDevice(f'Conflict. The name "{text}" is already in use' + (
                    f" by a stopped {ph.family}: free it first ({ph.kept.replace(f'${placeholder}', text)})"
                    if stopped else ""))
            return self.instance(placeholder, text)
        layout = host.system.layout
        taken = {lb for n, lb in self.users.items() if ph.kept is None or not at_rest(host, lb)} | set(self.users)
        free = [i for i in host.roles.instances(layout, host.roles.role_of_family[ph.family])
                if i.label not in taken]
        own = next((i for i in free if i.label == text), None)
        inst = own or (free[0] if free else None)
        if inst is None:
            raise NoDevice(f"the reference host has no free {ph.family} slot")
        self.given[text or inst.label] = inst.label
        return inst.label


class Shell:
    def __init__(self, host, fs: Sysfs | None = None):
        self.host = host
        self.fs = fs or Sysfs(host)
        self.names: dict[str, str] = {}      # docker run --name / qemu -name -> ctr0, vm1 ...
        self.jobs: dict[int, tuple] = {}     # job number -> (pid, the action that ends it, command)
        self.next_pid = 4242

    def run(self, line: str) -> Result:
        """One command line: `cmd`, `cmd | grep WORD`, or several joined by ';' or '&&'."""
        try:
            parts = split_line(line)
        except ValueError as exc:
            return Result(2, stderr=f"bash: syntax error: {exc}\n")
        # a pipeline is a command followed by its '|' stages; ';' and '&&' join pipelines
        pipelines = []
        for joiner, words in parts:
            if joiner == "|" and pipelines:
                pipelines[-1][1].append(words)
            else:
                pipelines.append((joiner, [words]))
        out, err, status = [], [], 0
        for joiner, stages in pipelines:
            if joiner == "&&" and status != 0:
                break
            r = self._pipeline(stages)
            out.append(r.stdout)
            err.append(r.stderr)
            status = r.status
        return Result(status, self.present("".join(out)), self.present("".join(err)))

    def run_argv(self, words: list) -> Result:
        """One program and its arguments, as a shell runs a line of plain words (no quoting,
        joining or pipes to read): `run` for a line a program has already split."""
        r = self._one(list(words))
        return Result(r.status, self.present(r.stdout), self.present(r.stderr))

    def present(self, text: str) -> str:
        return present_with(self.host.roles, text)

    def _pipeline(self, stages: list) -> Result:
        r = self._one(stages[0])
        for words in stages[1:]:
            if words[0] != "grep":
                return Result(2, stderr=f"gcu-model shell: only '| grep' can follow a command, not "
                                        f"'{shlex.join(words)}'\n")
            patterns, files = _grep_args(words)
            if not patterns or files:
                return Result(2, stderr="grep: after '|', give patterns only: grep WORD or grep -e A -e B\n")
            r = _grep(patterns, r.stdout, r.stderr)
        return r

    def _ls(self, words, text):
        """ls PATH... of sysfs and /dev: a directory's entries, a file's own path, one a line."""
        paths = [w for w in words[1:] if not w.startswith("-")] or ["/sys"]
        out, err, status = [], [], 0
        for path in paths:
            if self.fs.exists(path) and not self.fs.is_dir(path):
                out.append(f"{path}\n")                  # ls FILE names it (ls /dev/gcu*)
                continue
            try:
                out.extend(f"{e}\n" for e in sorted(self.fs.listdir(path)))
            except SysfsError as exc:
                err.append(f"ls: cannot access '{path}': {strerror(exc.errno)}\n")
                status = 2
        return Result(status, "".join(out), "".join(err))

    def _grep(self, words, text):
        """grep PATTERN FILE... (fixed strings, as the guide uses it)."""
        patterns, files = _grep_args(words)
        if not patterns or not files:
            return Result(2, stderr="Usage: grep [-e PATTERN]... PATTERN [FILE]...\n")
        out, err, missing = [], [], False
        for path in files:
            try:
                out.append(self._read_file(path))
            except SysfsError as exc:
                err.append(f"grep: {path}: {strerror(exc.errno)}\n")
                missing = True
        r = _grep(patterns, "".join(out), "".join(err))
        return Result(2 if missing else r.status, r.stdout, r.stderr)

    def _one(self, words: list) -> Result:
        m = re.fullmatch(r"\[([A-Za-z0-9_.-]+)\]", words[0]) if self.host.roles.family["vm"] else None
        if m:
            return self._in_vm(m.group(1), words[1:])
        while words and words[0] == "sudo":
            words = words[1:]
        if not words:
            return Result(0)
        words = [words[0], *(w for word in words[1:] for w in self._glob(word))]
        text = shlex.join(words)
        head = words[0].rsplit("/", 1)[-1]
        handler = {"kill": self._kill, "jobs": self._jobs, "ps": self._ps,
                   "cat": self._cat, "echo": self._echo, "lsmod": self._lsmod, "lspci": self._lspci,
                   "dmesg": self._dmesg, "GcuSriovMgr": self._sriov_mgr,
                   "GcuSriovMgr.sh": self._sriov_mgr, "docker": self._docker,
                   "pcimem": self._pcimem, "mkdir": self._mkdir,
                   "sed": self._sed, "grep": self._grep, "ls": self._ls, "sleep": self._sleep,
                   "zcat": self._zcat}.get(head)
        if handler is not None:
            return handler(words, text)
        return self._model_command(text)

    def _glob(self, word: str) -> list:
        """A path with * ? or [...] (§8.2 `cat /sys/module/enflame/parameters/*`), expanded as
        bash does, over the host's tree, sorted; a pattern nothing matches stays as written."""
        if not word.startswith("/") or not any(c in word for c in "*?["):
            return [word]
        found = [""]
        for part in word.strip("/").split("/"):
            step = []
            for base in found:
                if not any(c in part for c in "*?["):
                    step.append(f"{base}/{part}")
                    continue
                try:
                    names = self.fs.listdir(base or "/")
                except SysfsError:
                    continue
                step += [f"{base}/{n}" for n in sorted(names) if fnmatch.fnmatchcase(n, part) and not n.startswith(".")]
            found = step
        found = [f for f in found if self.fs.exists(f) or self.fs.is_dir(f)]
        return found or [word]

    def names_now(self, freed: tuple = ()) -> "ShellNames":
        """How this shell's lines name devices, VMs and containers now (surface.yaml
        placeholders); `freed`: names as if their `kept:` line had freed them."""
        return ShellNames(self.fs, self.names, self.host.device.mdev_holders, freed)

    def kept_names(self, label) -> list:
        """(name, the line that frees it) of a stopped instance whose name stays taken (kept:)."""
        if label not in self.names.values() or not at_rest(self.host, label):
            return []
        kept = {ph.family: (w, ph.kept) for w, ph in self.host.spec.surface.placeholders.items() if ph.kept}
        family = self.host.system.layout.labels[label].family
        if family not in kept:
            return []
        word, line = kept[family]
        return [(n, line.replace(f"${word}", n)) for n, lb in sorted(self.names.items()) if lb == label]

    def _model_command(self, text, vm=None):
        names = self.names_now()
        try:
            parsed = parse(text, self.host.spec, names)
        except CommandError as exc:
            if str(exc).startswith("unknown command"):
                if vm is not None:
                    return Result(127, stderr=f"{shlex.split(text)[1]}: command not found (in {vm})\n")
                return Result(127, stderr=f"bash: {shlex.split(text)[0]}: command not found\n")
            return Result(exc.status if exc.no_device else 2, stderr=f"{exc}\n")   # no such device: as a tool says
        if parsed.form is not None and parsed.form.ends is not None:
            return self._job(parsed)
        refused = self._not_now(parsed, names)
        if refused is not None:
            return refused
        out, timers = [], self.host.running_timers()
        for action in parsed.actions:
            before = self.host.view()
            r = self._qemu_output(self._act(action), action, before)
            if r.status != 0:
                return Result(parsed.form.fails if parsed.form is not None else r.status, "".join(out) + r.stdout, r.stderr)
            out.append(r.stdout)
        self.host.options.write(parsed)
        self.names.update(names.given)
        self._hold_mdevs(parsed)
        self._forget_stopped()
        if parsed.form is not None and parsed.form.waits is not None:
            return self._wait_for_reset(parsed, "".join(out), timers)
        done = parsed.form.said("done", dict(parsed.captured)) if parsed.form is not None else None
        return Result(0, "".join(out) + (f"{done}\n" if done else ""))

    def _wait_for_reset(self, parsed, out, timers) -> Result:
        """`waits: ACTION` (commands.yaml): the line returns when the timed action it set
        running has run out (the reset it started has ended, as efsmi does: RST-3), saying so
        as the form's `says:` gives."""
        form, captured = parsed.form, dict(parsed.captured)
        started = sorted(k for k in self.host.running_timers() - timers if k[0] == form.waits)
        states = []
        for _, label in started:
            for step in self.host.wait_out(form.waits, label):
                out += "".join(f"{ln}\n" for ln in step.log)
            states.append(self.host.view().at(label).reset)
        start, done, dead = (form.said(k, captured) for k in ("start", "done", "dead"))
        lost = "dead" in states
        out = self.present((f"{start}\n" if start else "") + out + (f"{done}\n" if done and not lost else ""))
        if lost:
            return Result(1, out, f"{form.program}: {dead or 'the reset did not end'}\n")
        return Result(0, out)

    def _not_now(self, parsed, names) -> Result | None:
        """What the device model refuses before the model is asked: a device enflame/unbind left
        without a driver (not yet on vfio-pci, SRIOV-8), an mdev another VM holds (PROD-8)."""
        program = parsed.form.program if parsed.form is not None else ""
        status = parsed.form.fails if parsed.form is not None else 1
        for action in parsed.actions:
            for label in Action.parse(action).kwargs.values():
                if label in self.host.device.detached:
                    return Result(status, stderr=f"{program}: {present_with(self.host.roles, label)}: no driver: "
                                            "bind it to vfio-pci first\n")
        for placeholder, uuid in parsed.captured:
            holder = self.host.device.mdev_holders.get(uuid) if self._is_mdev(placeholder) else None
            if holder is not None:
                return Result(status, stderr=f"{program}: {uuid}: device is already in use by "
                                        f"{next((n for n, lb in self.names.items() if lb == holder), holder)}\n")
        return None

    def _is_mdev(self, placeholder) -> bool:
        ph = self.host.spec.surface.placeholders.get(placeholder)
        return ph is not None and ph.namer == "mdev"

    def _hold_mdevs(self, parsed):
        """An mdev a VM started with is held by it until it stops (PROD-8)."""
        vm = self.host.roles.arg(Action.parse(parsed.actions[0]), "vm") if len(parsed.actions) == 1 else None
        for placeholder, uuid in parsed.captured:
            if vm is not None and self._is_mdev(placeholder):
                self.host.device.mdev_holders[uuid] = vm

    def _qemu_output(self, r, action, before) -> Result:
        """QEMU-4: the quirk's reset line is QEMU's output, not the kernel's, and shown only
        with `logging = 1` in the card's access-control file."""
        if r.status != 0 or "GCU Qemu Quirk" not in r.stdout:
            return r
        log = self.host.kernel_log
        log[:] = [e for e in log if "GCU Qemu Quirk" not in e]
        vm = self.host.roles.arg(Action.parse(action), "vm")
        held = before.at(vm).pf_dev if vm else None
        if held is None or not self.host.device.cards[self.host.system.layout.labels[held].index].quirk_logging:
            r.stdout = "".join(ln for ln in r.stdout.splitlines(True) if "GCU Qemu Quirk" not in ln)
        return r

    def _forget_stopped(self):
        """A name is free again once its instance stops (a VM powered off: `qemu -name` may
        give it anew), but for a name surface.yaml `kept:` (a container's, until docker rm)."""
        kept = {ph.family for ph in self.host.spec.surface.placeholders.values() if ph.kept}
        for name, label in list(self.names.items()):
            inst = self.host.system.layout.labels.get(label)
            if inst is not None and inst.family not in kept and at_rest(self.host, label):
                self.names.pop(name)

    def _act(self, action) -> Result:
        step = self.host.apply(action)
        if step.accepted:
            return Result(0, self.present("".join(f"{ln}\n" for ln in step.log)))
        outcome = step.outcome
        return Result(1, stderr=self.present(f"{getattr(outcome, 'message', outcome)}\n"))

    # ---- files
    def _cat(self, words, text):
        out, err, status = [], [], 0
        for path in words[1:]:
            try:
                out.append(self._read_file(path))
            except SysfsError as exc:
                err.append(f"cat: {path}: {strerror(exc.errno)}\n")
                status = 1
        return Result(status, "".join(out), "".join(err))

    def _read_file(self, path):
        if path.startswith("/sys/"):
            return self.fs.read(path)
        options = self.host.spec.commands.option_lines if self.host.spec.commands is not None else None
        if path.startswith(QUIRK_DIR + "/"):
            return self._quirk_file(path)
        if path == KERN_LOG:                  # §8.5: the kernel log of these days, as dmesg shows it
            return self.present("".join(f"{ln}\n" for ln in self.host.kernel_log))
        if options is None or path not in options.files:
            raise SysfsError("ENOENT", f"{path}: No such file or directory")
        h, labels = self.host.view().host, self.host.system.layout.labels
        lines = options.lines_in(path, lambda var: getattr(h, var), lambda label: bdf(labels[label].index))
        return "".join(f"{ln}\n" for ln in lines + self.host.options.lines(path))     # commands.yaml holds:

    def _echo(self, words, text):
        if len(words) >= 3 and words[-2] in (">", ">>") and words[-1].startswith("/sys/"):
            value = " ".join(words[1:-2])
            try:
                self.fs.write(words[-1], value + "\n")
                return Result(0)
            except SysfsError as exc:
                return Result(1, stderr=f"bash: echo: write error: {strerror(exc.errno)}\n")
        if ">" not in words and ">>" not in words:
            return Result(0, " ".join(words[1:]) + "\n")
        return self._model_command(text)

    # ---- the QEMU access-control file (QEMU-3, QEMU-4)
    def _quirk_card(self, path):
        m = re.fullmatch(re.escape(QUIRK_DIR) + r"/([0-9a-fA-F:.]+)\.conf", path)
        try:
            card = self.host.system.layout.labels[card_of(m.group(1), self.host.spec)] if m else None
        except (CommandError, KeyError):
            card = None
        if card is None or not self.host.view().of(card).qemu_acl:
            raise SysfsError("ENOENT", f"{path}: No such file or directory")
        return card

    def _quirk_file(self, path):
        logging = self.host.device.cards[self._quirk_card(path).index].quirk_logging
        return QUIRK_SAMPLE_TEXT.format(logging=int(logging))

    def _mkdir(self, words, text):
        if words[1:] in (["-p", QUIRK_DIR], ["-p", QUIRK_DIR + "/"]):
            return Result(0)
        return Result(1, stderr=f"mkdir: the reference host makes only {QUIRK_DIR} (mkdir -p)\n")

    def _sed(self, words, text):
        """`sed -i 's/logging = 0/logging = 1/' FILE` switches the quirk patch's log (QEMU-4)."""
        if len(words) == 4 and words[1] == "-i" and words[3].startswith(QUIRK_DIR + "/"):
            m = re.fullmatch(r"s/logging\s*=\s*([01])/logging\s*=\s*([01])/g?", words[2].replace(" ", ""))
            try:
                card = self._quirk_card(words[3])
            except SysfsError:
                return Result(2, stderr=f"sed: can't read {words[3]}: No such file or directory\n")
            if not m:
                return Result(1, stderr=f"sed: the reference host edits only the logging line of {words[3]} "
                                        "(s/logging = 0/logging = 1/)\n")
            dev = self.host.device.cards[card.index]
            if int(dev.quirk_logging) == int(m.group(1)):
                dev.quirk_logging = m.group(2) == "1"
            return Result(0)
        return self._model_command(text)

    # ---- registers through BAR0 (FW-3); `pcimem FILE OFFSET [w [DATA]]` as the pcimem tool
    def _pcimem(self, words, text, vm=None):
        if len(words) < 3 or (len(words) > 3 and words[3] != "w") or len(words) > 5:
            return Result(1, stderr="Usage: pcimem { sysfile } { offset } [ w [ data ] ]\n"
                                    "\tsys file: sysfs file for the pci resource to act on\n"
                                    "\toffset  : offset into pci memory region to act upon\n"
                                    "\tw       : access a 32-bit word (the only width the reference host has)\n"
                                    "\tdata    : data to be written\n")
        m = re.fullmatch(r"/sys/bus/pci/devices/([0-9a-fA-F:.]+)/resource([01])", words[1])
        try:
            offset = int(words[2], 0)
            data = int(words[4], 0) if len(words) == 5 else None
        except ValueError:
            return Result(1, stderr=f"pcimem: bad number in '{' '.join(words[2:])}'\n")
        if not m or offset < 0 or offset % 4 or (data is not None and not 0 <= data <= 0xFFFFFFFF):
            return Result(1, stderr=f"pcimem: {words[1]} at {words[2]}: expected "
                                    "/sys/bus/pci/devices/BDF/resource0|1, a 4-byte aligned offset and a 32-bit word\n")
        bar = int(m.group(2))
        if vm is not None:
            return self._pcimem_vm(vm, bar, offset, data)
        found = self.fs.devices().get(m.group(1) if m.group(1).count(":") == 2 else f"0000:{m.group(1)}")
        if found is None:
            return Result(1, stderr="Error at line 0, file pcimem.c (2) [No such file or directory]\n")
        kind, inst = found
        if kind != "pf" or bar != 0:
            return Result(1, stderr=f"pcimem: the reference host maps BAR0 (resource0) of a card; not {words[1]}\n")
        secured = "true" if self.host.device.is_secured(inst.index, offset) else "false"
        dev = self.host.device
        if data is not None:
            action = self.host.roles.action("write_register", inst, secured=secured)
            before = self.host.state
            r = self._act(action)
            if r.status != 0:
                return r
            dev.write_register(inst.index, offset, data, dev.reaches(
                before, action, inst, ("secured_reg_written", "plain_reg_written")))
        r = self._act(self.host.roles.action("read_register", inst, secured=secured))      # pcimem reads back
        if r.status == 0:
            value = dev.read_register(inst.index, offset, self.host.view().of(inst).last_read_blocked)
            r.stdout = (f"Written 0x{data:08X}; readback 0x{value:08X}\n" if data is not None
                        else f"0x{offset:08X}: 0x{value:08X}\n")
        return r

    def _pcimem_vm(self, vm, bar, offset, data):
        """Inside a VM, BAR0 and BAR1 of the card it holds whole; the access-control file
        drops BAR0 writes (QEMU-3)."""
        held = self.host.view().at(vm)
        card_label = held.pf_dev
        if held.power != "running" or card_label is None:
            return Result(1, stderr="Error at line 0, file pcimem.c (2) [No such file or directory]\n")
        card = self.host.system.layout.labels[card_label].index
        regs = self.host.device.cards[card].registers if bar == 0 else self.host.device.cards[card].bar1
        if data is None:
            return Result(0, f"0x{offset:08X}: 0x{regs.get(offset, 0):08X}\n")
        vm_inst = self.host.system.layout.labels[vm]
        action = self.host.roles.action("write_bar", vm_inst, bar=bar)
        before = self.host.state
        r = self._act(action)
        if r.status == 0:
            reached = bar == 1 or self.host.device.reaches(before, action, vm_inst, ("bar0_written",))
            self.host.device.write_register(card, offset, data, reached, bar)
            r.stdout = f"Written 0x{data:08X}; readback 0x{regs.get(offset, 0):08X}\n"
        return r

    # ---- time (§11.1 `sleep 0.5`): what happens while it passes happens (resets end, RPM-2)
    def _sleep(self, words, text):
        """sleep NUMBER[SUFFIX]...: seconds (s), minutes (m), hours (h), days (d), fractions
        allowed, several summed, as GNU sleep (not its 1e3 or inf). The host's clock moves on by
        that much, and the timed actions due meanwhile happen (host.advance)."""
        if len(words) < 2:
            return Result(1, stderr="sleep: missing operand\n")
        scale = {"": 1000, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
        ms = 0.0
        for word in words[1:]:
            m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", word)
            if not m:
                return Result(1, stderr=f"sleep: invalid time interval '{word}'\n")
            ms += float(m.group(1)) * scale[m.group(2)]
        if not math.isfinite(ms) or ms > MAX_SLEEP_MS:
            return Result(1, stderr=f"sleep: invalid time interval '{' '.join(words[1:])}' (the reference host "
                                    "sleeps at most a year)\n")
        self.host.advance(int(round(ms)))
        return Result(0)

    # ---- listings
    def _lsmod(self, words, text):
        d = self.host.describe()
        h = self.host.view().host
        rows = ["Module                  Size  Used by"]
        if h.kmd == "loaded":
            users = [m for m, on in (("enflame_peermem", h.peermem == "loaded"),
                                     ("enflame_test", h.test_module)) if on]
            holders = sum(v for k, v in d.items() if k.endswith(".opens"))        # processes and containers
            if h.peermem == "loaded":
                rows.append(f"{'enflame_peermem':<20}{16384:>10}  0")
            if h.test_module:
                rows.append(f"{'enflame_test':<20}{16384:>10}  0")
            rows.append(f"{'enflame':<20}{4194304:>10}  {len(users) + holders} {','.join(users)}".rstrip())
        return Result(0, "".join(f"{r}\n" for r in rows))

    def _lspci(self, words, text):
        if words[1:] not in ([], ["-nD"], ["-Dn"], ["-n", "-D"], ["-D", "-n"]):
            return Result(1, stderr=f"lspci: the reference host knows 'lspci -nD', not: {' '.join(words[1:])}\n")
        vendor = self.host.spec.device["pci_vendor"]
        lines = []
        for addr in sorted(self.fs.devices()):
            kind, inst = self.fs.devices()[addr]
            device = self.fs.pci_device(inst)
            lines.append(f"{addr} 1200: {vendor:04x}:{device:04x}")
        return Result(0, "".join(f"{ln}\n" for ln in lines))

    def _zcat(self, words, text):
        """§8.5 `zcat /var/log/kern.log.*.gz`: the rotated logs of earlier days. A host the model
        starts afresh has none (ASSUMPTION: its log starts with this session), so each is ENOENT."""
        files = [w for w in words[1:] if not w.startswith("-")]
        if not files:
            return Result(1, stderr="gzip: compressed data not read from a terminal\n")
        return Result(1, stderr="".join(f"gzip: {f}: No such file or directory\n" for f in files))

    def _dmesg(self, words, text):
        return Result(0, self.present("".join(f"{ln}\n" for ln in self.host.kernel_log)))

    # ---- processes on the host (UNLD-3, RPM-4, RPM-5)
    def _job(self, parsed) -> Result:
        """A program started in the background (commands.yaml `ends:`): it holds its device
        node until `kill %JOB` ends it (UNLD-3, RPM-5)."""
        words = shlex.split(parsed.line)
        while words and words[0] == "sudo":
            words = words[1:]
        r = self._act(parsed.action)
        if r.status != 0:
            return Result(1, stderr=f"{words[0].rsplit('/', 1)[-1]}: {r.stderr}")
        closed = parsed.form.ends_action(Action.parse(parsed.action).kwargs)
        number = max(self.jobs, default=0) + 1
        self.next_pid += 1
        self.jobs[number] = (self.next_pid, str(closed), " ".join(words[:-1]))
        return Result(0, f"[{number}] {self.next_pid}\n")

    def _kill(self, words, text):
        """kill [-9 | -KILL | -SIGKILL | -15 | -TERM | -SIGTERM] %JOB | PID (§10.2 `kill -9`): the
        program ends either way (the signal is not modelled: every program here dies of it)."""
        signal = len(words) > 1 and re.fullmatch(r"-(9|15|(SIG)?(KILL|TERM))", words[1])
        if signal:
            words = [words[0], *words[2:]]
        if len(words) != 2:
            return Result(2, stderr="kill: usage: kill [-9|-15] %JOB | PID\n")
        arg = words[1]
        number = None
        if arg.startswith("%") and arg[1:].isdigit():
            number = int(arg[1:])
        elif arg.isdigit():
            number = next((n for n, (pid, _, _) in self.jobs.items() if pid == int(arg)), None)
        if number not in self.jobs:
            return Result(1, stderr=f"bash: kill: {arg}: no such job\n")
        pid, closed, _ = self.jobs.pop(number)
        r = self._act(closed)
        return Result(r.status, r.stdout, r.stderr)

    # ---- ps (§10.2: `ps -aux | grep gcu`)
    def _ps(self, words, text):
        """ps aux / ps -aux / ps -ef: the KMD's kernel threads of each card it drives (§8.7,
        STBY-3, PARAM-6: gcu_sched_func, gcu_poll_task_func, gcu_ih_process_work_func unless
        irq_poll_interval=0) and the programs this shell started. ASSUMPTION: a thread a card,
        named as the guide names it with /N, N the card's device id; the other columns are samples."""
        if words[1:] not in ([], ["aux"], ["-aux"], ["-ef"], ["-e"], ["ax"]):
            return Result(1, stderr=f"ps: the reference host knows ps aux, ps -aux and ps -ef, not: {' '.join(words[1:])}\n")
        rows = [(pid, f"[{name}]") for pid, name in kernel_threads(self.host, self.fs)]
        rows += [(pid, cmd) for pid, _, cmd in self.jobs.values()]
        lines = ["USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"]
        for pid, cmd in sorted(rows):
            user, tty = ("root", "?") if cmd.startswith("[") else ("root", "pts/0")
            lines.append(f"{user:<8}{pid:>8}  0.0  0.0      0     0 {tty:<8} S    00:00   0:00 {cmd}")
        return Result(0, "".join(f"{ln}\n" for ln in lines))

    def _jobs(self, words, text):
        return Result(0, "".join(f"[{n}]  Running                 {cmd} &\n" for n, (_, _, cmd) in sorted(self.jobs.items())))

    # ---- device nodes
    # ---- docker (§9.5, DOCK-1): run and stop are commands.yaml's; rm ends a name
    def _docker(self, words, text):
        if words[1:2] != ["rm"]:
            return self._model_command(text)
        if len(words) != 3 or words[2] not in self.names:
            return Result(1, stderr=f"Error response from daemon: No such container: {' '.join(words[2:])}\n")
        if not at_rest(self.host, self.names[words[2]]):
            return Result(1, stderr=f"Error response from daemon: You cannot remove a running container "
                                    f"{words[2]}. Stop the container before attempting removal\n")
        self.names.pop(words[2])                 # removing a stopped container frees its name
        return Result(0, f"{words[2]}\n")

    # ---- inside a VM (§9.3: what a VM's KMD does)
    def _in_vm(self, name, words):
        """A line on the console of the VM `qemu-system-x86_64 -name NAME` started (or of the VM
        slot of that label)."""
        vm = self.names.get(name, name)
        if vm not in {i.label for i in self.host.roles.instances(self.host.system.layout, "vm")}:
            return Result(1, stderr=f"no VM {name} on this host\n")
        while words and words[0] == "sudo":
            words = words[1:]
        if words[:1] == ["pcimem"]:
            return self._pcimem(words, None, vm=vm)
        if words and re.fullmatch(r"(\./)?enflame-[^/\s]+\.run", words[0]):
            return Result(0, "enflame: driver installed and loaded in the guest\n")
        if words:                                   # commands.yaml forms of a VM's console: [$VM] LINE
            return self._model_command(shlex.join([f"[{name}]", *words]), name)
        return Result(0)

    # ---- GcuSriovMgr (§9.4)
    def _script_write(self, flag, device, value=None) -> None:
        """The sysfs write GcuSriovMgr.sh makes for `flag` on `device` ((kind, instance) of the
        bus): the line surface.yaml writes for the action it is (commands.yaml scripts:), then written
        as the kernel takes it (its errno is the script's error)."""
        _, inst = device
        name = self.host.spec.commands.scripts.get("GcuSriovMgr", {}).get(flag, {}).get(inst.family)
        if name is None:
            raise SysfsError("ENODEV", f"{flag} is not for a {inst.family}")
        decl = self.host.spec.actions[name]
        params = {p.name: inst.label if p.is_instance else str(value) for p in decl.params}
        line = self.fs.write_line(name, params)
        m = re.fullmatch(r"echo (\S*) > (\S+)", line or "")
        if m is None:
            raise SysfsError("ENODEV", f"{present_with(self.host.roles, inst.label)}: no file takes {flag} now")
        self.fs.write(m.group(2), m.group(1))

    def _sriov_mgr(self, words, text):
        args = words[1:]
        if not args or "--help" in args or "-h" in args:
            return Result(0, GCU_SRIOV_MGR_HELP)
        known = {"--slot", "--vf-num", "--check", "--bind", "--unbind", "--query"}
        flags = [a for a in args if a.startswith("--")]
        bad = [a for a in flags if a not in known]
        if bad:
            return Result(1, stderr=f"GcuSriovMgr: unknown option {bad[0]}\n" + GCU_SRIOV_MGR_HELP)
        slots = []
        if "--slot" in args:
            k = args.index("--slot")
            if k + 1 >= len(args):
                return Result(1, stderr="GcuSriovMgr: --slot needs a pci_slot\n")
            slots = [s if s.count(":") == 2 else f"0000:{s}" for s in args[k + 1].split(",")]
        devices = self.fs.devices()
        for s in slots:
            if s not in devices:
                return Result(1, stderr=f"GcuSriovMgr: {s}: no such GCU device\n")
        out, err = [], []
        if "--vf-num" in args:
            k = args.index("--vf-num")
            if k + 1 >= len(args) or not args[k + 1].isdigit():
                return Result(1, stderr="GcuSriovMgr: --vf-num needs a number\n")
            if not slots:
                return Result(1, stderr="GcuSriovMgr: --vf-num needs --slot\n")
            for s in slots:
                try:
                    self._script_write("--vf-num", devices[s], args[k + 1])
                    out.append(f"{s}: {args[k + 1]} vf(s)\n")
                except SysfsError as exc:
                    err.append(f"{s}: {exc.message}\n")
        for flag in ("--bind", "--unbind"):
            if flag in args:
                targets = slots or [a for a, (kind, _) in sorted(devices.items()) if kind == "vf"]
                for s in targets:
                    try:
                        self._script_write(flag, devices[s])
                        out.append(f"{s}: {'bound to' if flag == '--bind' else 'unbound from'} vfio-pci\n")
                    except SysfsError as exc:
                        err.append(f"{s}: {exc.message}\n")
        if "--check" in args or "--query" in args:
            view = self.host.view()
            for s in slots or sorted(devices):
                kind, inst = self.fs.devices()[s]
                binding = view.of(inst).binding
                extra = f", {view.of(inst).numvfs} vf(s)" if kind == "pf" else ""
                out.append(f"{s}: {'PF' if kind == 'pf' else 'VF'}, driver {binding}{extra}\n")
        return Result(1 if err else 0, "".join(out), "".join(err))


def _grep_args(words):
    """grep's words -> (patterns, files): -e P ... or a first word as the pattern."""
    patterns, rest, k = [], [], 1
    while k < len(words):
        if words[k] == "-e" and k + 1 < len(words):
            patterns.append(words[k + 1])
            k += 2
        else:
            rest.append(words[k])
            k += 1
    if not patterns and rest:
        patterns, rest = rest[:1], rest[1:]
    return patterns, rest


def _grep(patterns, text, err=""):
    kept = [ln for ln in text.splitlines() if any(p in ln for p in patterns)]
    return Result(0 if kept else 1, "".join(f"{ln}\n" for ln in kept), err)


def present_with(roles, text: str) -> str:
    """Model labels as the kernel names devices: card0 -> 0000:01:00.0, card0.vf1 -> 0000:01:00.2
    (the families of the pf and vf roles, whatever the spec calls them)."""
    pf, vf = roles.family["pf"], roles.family["vf"]
    if vf is not None:
        text = re.sub(rf"\b{re.escape(pf)}(\d+)\.{re.escape(vf)}(\d+)\b",
                      lambda m: vf_bdf(int(m.group(1)), int(m.group(2))), text)
    return re.sub(rf"\b{re.escape(pf)}(\d+)\b", lambda m: bdf(int(m.group(1))), text)
