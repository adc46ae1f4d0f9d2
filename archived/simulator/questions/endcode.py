"""The `$PAGE->requires->get_end_code()` tail Moodle appends to every question's `html`.

The page's requirements accumulate while questions are rendered and are never cleared, so the tail of
question N repeats the AMD calls of questions 1..N (as in the recorded fixtures). An archiver strips it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from archived.simulator.profiles import ReleaseProfile


def _amd(module: str, call: str) -> str:
    body = f"amd.{call}; " if call else ""
    return (
        f"M.util.js_pending('{module}'); require(['{module}'], function(amd) {{{body}"
        f"M.util.js_complete('{module}');}});"
    )


_TYPESET = _amd("filter_mathjaxloader/loader", "typeset()")
# Every rendered question re-adds these page-level calls (Moodle's renderer initialises them per output).
_PER_QUESTION = (
    _amd("core/log", 'setConfig({"level":"warn"})'),
    _amd("core/page_global", "init()"),
    _amd("core/utility", ""),
    _amd("core/storage_validation", "init(null)"),
)
_MATHJAX2_CONFIG = (
    'amd.configure({"mathjaxconfig":"\\nMathJax.Hub.Config({\\n    config: [\\"Accessible.js\\", \\"Safe.js\\"],'
    '\\n    errorSettings: { message: [\\"!\\"] },\\n    skipStartupTypeset: true,'
    '\\n    messageStyle: \\"none\\"\\n});\\n",'
    '"lang":"en"});'
)
_MATHJAX3_CONFIG = (
    'amd.configure({"mathjaxurl":"https:\\/\\/cdn.jsdelivr.net\\/npm\\/mathjax@3.2.2\\/es5\\/tex-mml-chtml.js",'
    '"mathjaxconfig":"","lang":"en"});'
)
_STRINGS = (
    'M.str = {"moodle":{"lastmodified":"Last modified","name":"Name","error":"Error","info":"Information",'
    '"yes":"Yes","no":"No","confirm":"Confirm","areyousure":"Are you sure?","closebuttontitle":"Close",'
    '"unknownerror":"Unknown error","file":"File","url":"URL","collapseall":"Collapse all","expandall":"Expand all"},'
    '"repository":{"type":"Type","size":"Size","invalidjson":"Invalid JSON string",'
    '"nofilesattached":"No files attached",'
    '"filepicker":"File picker","logout":"Logout","nofilesavailable":"No files available",'
    '"norepositoriesavailable":"Sorry, none of your current repositories can return files in the required format.",'
    '"fileexistsdialogheader":"File exists","fileexistsdialog_editor":"A file with that name has already been attached '
    'to the text you are editing.","fileexistsdialog_filemanager":"A file with that name has already been attached",'
    '"renameto":"Rename to \\"{$a}\\"","referencesexist":"There are {$a} links to this file","select":"Select"},'
    '"admin":{"confirmdeletecomments":"Are you sure you want to delete the selected comment(s)?"},'
    '"debug":{"debuginfo":"Debug info","line":"Line","stacktrace":"Stack trace"},"langconfig":{"labelsep":": "}};'
)


@dataclass
class EndCode:
    """The JavaScript requirements of one `get_attempt_review` page, accumulated question by question."""

    profile: ReleaseProfile
    wwwroot: str
    seed: str
    calls: list[str] = field(default_factory=list)
    questions: int = 0

    def typeset(self) -> None:
        """Queue `amd.typeset()` (the MathJax filter touched a chunk)."""
        self.calls.append(_TYPESET)

    def amd(self, module: str, call: str) -> None:
        """Queue `require([module], function(amd) {amd.<call>; ...})`."""
        self.calls.append(_amd(module, call))

    def finish_question(self) -> str:
        """Close one question's requirements and return the end code as printed after it."""
        self.calls.extend(_PER_QUESTION)
        self.questions += 1
        return self.render()

    def _random_prefix(self) -> str:
        return "random" + hashlib.sha1(self.seed.encode()).hexdigest()[:13]

    def render(self) -> str:
        """The whole `<script>` tail for the questions rendered so far."""
        rev = self.profile.theme_revision
        root = self.wwwroot
        jqueryui = "ui-1.14.1" if self.profile.at_least(5, 0) else "ui-1.13.2"
        config = _MATHJAX3_CONFIG if self.profile.mathjax3 else _MATHJAX2_CONFIG
        head = (
            "<script>\n//<![CDATA[\nvar require = {\n"
            f"    baseUrl : '{root}/lib/requirejs.php/{rev}/',\n"
            "    // We only support AMD modules with an explicit define() statement.\n"
            "    enforceDefine: true,\n    skipDataMain: true,\n    waitSeconds : 0,\n\n    paths: {\n"
            f"        jquery: '{root}/lib/javascript.php/{rev}/lib/jquery/jquery-3.7.1.min',\n"
            f"        jqueryui: '{root}/lib/javascript.php/{rev}/lib/jquery/{jqueryui}/jquery-ui.min',\n"
            f"        jqueryprivate: '{root}/lib/javascript.php/{rev}/lib/requirejs/jquery-private'\n"
            "    },\n\n    // Custom jquery config map.\n    map: {\n"
            "      // '*' means all modules will get 'jqueryprivate'\n      // for their 'jquery' dependency.\n"
            "      '*': { jquery: 'jqueryprivate' },\n\n"
            "      // 'jquery-private' wants the real jQuery module\n"
            "      // though. If this line was not here, there would\n"
            "      // be an unresolvable cyclic dependency.\n      jqueryprivate: { jquery: 'jquery' }\n    }\n};\n\n"
            "//]]>\n</script>\n"
            f'<script src="{root}/lib/javascript.php/{rev}/lib/requirejs/require.min.js"></script>\n'
            '<script>\n//<![CDATA[\nM.util.js_pending("core/first");\n'
            "require(['core/first'], function() {\n"
        )
        calls = [
            "require(['core/prefetch'])\n",
            "M.util.js_pending('filter_mathjaxloader/loader'); require(['filter_mathjaxloader/loader'], "
            f"function(amd) {{{config} M.util.js_complete('filter_mathjaxloader/loader');}});",
            "require([\"media_videojs/loader\"], function(loader) {\n    loader.setUp('en');\n});",
            *self.calls,
        ]
        body = ";\n".join(calls)
        tail = '\n    M.util.js_complete("core/first");\n});\n//]]>\n</script>\n'
        if not self.profile.mathjax3:
            tail += '<script src="https://cdn.jsdelivr.net/npm/mathjax@2.7.9/MathJax.js?delayStartupUntil=configured"></script>\n'
        prefix = self._random_prefix()
        ready = "".join(
            f" M.util.js_pending('{prefix}{n}'); Y.on('domready', function() {{ M.util.js_complete(\"init\");  "
            f"M.util.js_complete('{prefix}{n}'); }});\n"
            for n in range(1, self.questions + 1)
        )
        tail += f"<script>\n//<![CDATA[\n{_STRINGS}\n//]]>\n</script>\n"
        tail += f"<script>\n//<![CDATA[\n(function() {{{ready}}})();\n//]]>\n</script>\n"
        return head + body + tail
