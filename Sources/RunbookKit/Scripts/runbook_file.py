#!/usr/bin/python3
# runbook's ini merge and append block, as an Ansible module (exported by runbook).
import grp
import os
import pwd
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule


def indent(line):
    return len(line) - len(line.lstrip(" \t"))


def is_comment(line):
    t = line.strip()
    return t.startswith("#") or t.startswith(";")


def section_name(line):
    t = line.strip()
    if t.startswith("[") and t.endswith("]"):
        return t[1:-1].strip()
    return None


def ini_key(line):
    if not line or is_comment(line):
        return None
    end = len(line)
    for i, c in enumerate(line):
        if c in "=:":
            end = i
            break
    key = line[:end].strip()
    return key or None


def split_setting(line, markers):
    """LINE cut as runbook's INISettingLine cuts it: indent, key, sign (with the white
    space before it), spacing, value, comment (with the white space before it)."""
    start = indent(line)
    sign_at = next((j for j in range(start, len(line)) if line[j] in "=:"), None)
    if sign_at is None:
        return [line[:start], line[start:], "", "", "", ""]
    key_end = sign_at
    while key_end > start and line[key_end - 1] in " \t":
        key_end -= 1
    value_start = sign_at + 1
    while value_start < len(line) and line[value_start] in " \t":
        value_start += 1
    begin = value_start + 1
    if value_start < len(line) and line[value_start] in "'\"":
        close = line.find(line[value_start], value_start + 1)
        begin = (len(line) if close < 0 else close) + 1
    value_end = next((p for p in range(begin, len(line))
                      if line[p] in markers and line[p - 1] in " \t"), len(line))
    if value_end < len(line):
        while line[value_end - 1] in " \t":
            value_end -= 1
    return [line[:start], line[start:key_end], line[key_end:sign_at + 1],
            line[sign_at + 1:value_start], line[value_start:value_end], line[value_end:]]


def inline_comment_markers(lines):
    """The characters at least two settings of LINES, commented out or not, put after
    their value to start a comment (as INISettingLine.inlineCommentMarkers)."""
    counts = {}
    for line in lines:
        _, key, sign, _, _, comment = split_setting(line.lstrip(" \t#;"), "#;")
        if sign and key and not any(c in " \t" for c in key) and comment:
            marker = comment.lstrip(" \t")[0]
            counts[marker] = counts.get(marker, 0) + 1
    return "".join(sorted(m for m, n in counts.items() if n >= 2))


def replaced_key_line(old, new, markers):
    """The key line OLD with the block's line NEW in its place (INISettingLine.replaced)."""
    indent_, _, sign, spacing, value, comment = split_setting(old, markers)
    _, new_key, new_sign, new_spacing, new_value, new_comment = split_setting(new, markers)
    separator = new_sign + new_spacing
    if sign and new_sign:
        separator = sign + (new_spacing if not value or not new_value else spacing)
    return indent_ + new_key + separator + new_value + (new_comment or comment)


def setting_end(lines, first, end):
    """The last line of the setting at FIRST: comments between its continuation lines
    belong to it (FileEdit.settingEnd)."""
    last, nxt = first, first + 1
    while nxt < end:
        if is_comment(lines[nxt]):
            nxt += 1
            continue
        if (not lines[nxt].strip() or indent(lines[nxt]) <= indent(lines[first])
                or section_name(lines[nxt]) is not None):
            break
        last = nxt
        nxt += 1
    return last


def replacing(old, new, markers):
    """The setting OLD with the block's lines NEW in its place, its comments kept
    (FileEdit.replacing)."""
    result, used = [], 0
    for line in old:
        if is_comment(line):
            result.append(line)
        elif used < len(new):
            result.append(replaced_key_line(line, new[0], markers) if used == 0 else new[used])
            used += 1
    return result + new[used:]


def block_settings(block, section):
    order, settings = [], {}
    current, open_ = section, None
    for raw in block.split("\n"):
        if is_comment(raw):
            continue
        line = raw.strip()
        if open_ is not None and line and indent(raw) > open_[0]:
            settings[open_[1]][-1][1].append(raw)
            continue
        open_ = None
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        key = ini_key(line)
        if key is None:
            continue
        if current not in settings:
            order.append(current)
            settings[current] = []
        settings[current].append((key, [line]))
        open_ = (indent(raw), current)
    return order, settings


def merge_ini(block, original, section):
    lines = [] if original == "" else original.split("\n")
    final_newline = original == "" or original.endswith("\n")
    if original.endswith("\n"):
        lines.pop()
    markers = inline_comment_markers(lines)
    order, settings = block_settings(block, section)
    for name in order:
        pending = list(settings[name])
        start, found = 0, name is None
        if name is not None:
            for i, l in enumerate(lines):
                if section_name(l) == name:
                    start, found = i + 1, True
                    break
        if not found:
            if lines and lines[-1].strip():
                lines.append("")
            lines.append("[%s]" % name)
            for _, ls in pending:
                lines.extend(ls)
            continue
        end = next((j for j in range(start, len(lines)) if section_name(lines[j]) is not None), len(lines))
        i = start
        while i < end:
            key = ini_key(lines[i].strip())
            if key is None or is_comment(lines[i]):
                i += 1
                continue
            last = setting_end(lines, i, end)
            match = next((k for k, p in enumerate(pending) if p[0] == key), None)
            if match is not None:
                replacement = replacing(lines[i:last + 1], pending.pop(match)[1], markers)
                lines[i:last + 1] = replacement
                end += len(replacement) - (last - i + 1)
                i += len(replacement)
            else:
                i = last + 1
        insert_at = end
        while insert_at > start and not lines[insert_at - 1].strip():
            insert_at -= 1
        new = [l for _, ls in pending for l in ls]
        lines[insert_at:insert_at] = new
    if not lines:
        return ""
    return "\n".join(lines) + ("\n" if final_newline else "")


def append_block(block, original, id_, comment="#"):
    begin = "%s BEGIN RUNBOOK %s" % (comment, id_)
    end = "%s END RUNBOOK %s" % (comment, id_)
    body = block
    if body and not body.endswith("\n"):
        body += "\n"
    wrapped = "%s\n%s%s\n" % (begin, body, end)
    lines = original.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if begin in lines:
        first = lines.index(begin)
        if end in lines[first:]:
            last = first + lines[first:].index(end)
            before = "\n".join(lines[:first])
            after = "\n".join(lines[last + 1:])
            return (before + "\n" if before else "") + wrapped + (after + "\n" if after else "")
    text = original
    if text and not text.endswith("\n"):
        text += "\n"
    return text + wrapped


def owner_ids(owner):
    """The uid and gid chown gives for OWNER (USER, USER:GROUP, USER: or :GROUP, names or
    numbers, as exec's chown takes it); -1 where it leaves one as it is."""
    if not owner:
        return -1, -1
    user, colon, group = owner.partition(":")
    entry = None
    if user and not user.isdigit():
        entry = pwd.getpwnam(user)
    uid = (int(user) if user.isdigit() else entry.pw_uid) if user else -1
    if group:
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    elif colon and user:
        # "USER:" is the user's login group.
        gid = (entry or pwd.getpwuid(uid)).pw_gid
    else:
        gid = -1
    return uid, gid


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="str", required=True),
            edit=dict(type="str", required=True, choices=["write", "ini", "append"]),
            content=dict(type="str", required=True),
            section=dict(type="str"),
            id=dict(type="str"),
            create=dict(type="bool", default=False),
            mode=dict(type="str"),
            owner=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    # ~/ is the home of the user the task runs as, as under exec.
    path, mode, owner = os.path.expanduser(p["path"]), p["mode"], p["owner"]
    exists = os.path.exists(path)
    original = ""
    if exists:
        with open(path, encoding="utf-8", newline="") as f:
            original = f.read()
    elif p["edit"] == "ini" and not p["create"]:
        module.fail_json(msg="%s does not exist: install the package that provides it first, or add 'create' to the step to create it (mode 0644 unless mode= says otherwise)" % path)
    if p["edit"] == "ini":
        new = merge_ini(p["content"], original, p["section"])
    elif p["edit"] == "append":
        new = append_block(p["content"], original, p["id"])
    else:
        new = p["content"]
    uid, gid = owner_ids(owner)
    if exists and new == original:
        # Unchanged text; mode and owner are still made what the step says.
        st = os.stat(path)
        changed = False
        if mode and st.st_mode & 0o7777 != int(mode, 8):
            changed = True
            if not module.check_mode:
                os.chmod(path, int(mode, 8))
        if (uid != -1 and st.st_uid != uid) or (gid != -1 and st.st_gid != gid):
            changed = True
            if not module.check_mode:
                os.chown(path, uid, gid)
        module.exit_json(changed=changed, path=path)
    if module.check_mode:
        module.exit_json(changed=True, path=path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    if exists:
        # The first change keeps the original beside the file, as runbook exec does.
        orig = path + ".runbook-orig"
        if not os.path.exists(orig):
            shutil.copy2(path, orig)
            st = os.stat(path)
            os.chown(orig, st.st_uid, st.st_gid)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".runbook.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(new)
        if exists:
            st = os.stat(path)
            os.chmod(tmp, st.st_mode & 0o7777)
            os.chown(tmp, st.st_uid, st.st_gid)
        else:
            os.chmod(tmp, 0o644)
        if mode:
            os.chmod(tmp, int(mode, 8))
        if owner:
            os.chown(tmp, uid, gid)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    module.exit_json(changed=True, path=path)


if __name__ == "__main__":
    main()
