"""Knowledge tab: the documents characters draw on, from uploaded .txt / .md files or pasted text.

Left: every document with its size and the characters that use it, and the open document to
edit or delete. Right: add documents, and attach the open one to / detach it from a character.
In a public demo the documents can be read but not changed: the controls are hidden and the
handlers refuse (`PageContext.owner_only`).

Publishes `ctx.documents_changed` (grows whenever documents or their attachments change) and
listens to `ctx.characters_changed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from components.notices import PANEL, message_box
from components.text import error_note, plain
from pages.context import PageContext
from studio.catalog.documents import document_size
from studio.catalog.forms import FormInvalid, check_doc_content, check_doc_name, document_from_file
from studio.errors import StudioError
from studio.vocabulary import KNOWLEDGE_TOKENS_PER_CHARACTER

COLUMNS = ["Name", "Size", "Used by", "Updated", "ID"]
NOTHING_SENT = "Nothing was sent: fix the fields marked above."
USED_BY_CSS = """
.kn-used { font-size: 0.88rem; }
.kn-chip { display: inline-block; padding: 2px 9px; margin: 2px 4px 2px 0; border-radius: 999px;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); font-size: 0.82rem; }
"""


def build(ctx: PageContext) -> None:
    editable = not ctx.public_demo  # a public demo shows the documents but changes nothing
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            shelf = documents_panel()
            editor = editor_panel(editable)
        with gr.Column(scale=2, min_width=380, visible=editable, elem_id="kn-add-column"):
            adder = add_panel()
            attacher = attach_panel()
    library = Library(ctx, shelf, editor, attacher)
    listing_events(ctx, library)
    editor_events(ctx, library, adder)
    add_events(ctx, library, adder)
    attach_events(ctx, library)


# -- Rendering -----------------------------------------------------------------------------------

def _size(size: dict[str, int] | None) -> str:
    if not size:
        return "–"
    return f"{size['characters']:,} chars · ~{size['tokens']:,} tokens"


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value or "")


def documents_table(documents: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [[d.get("name"), _size(d.get("size")),
             ", ".join(u.get("name") or "?" for u in d.get("used_by") or []) or "—",
             _when(d.get("updated_at")), d["id"][:8]] for d in documents]
    return pd.DataFrame(rows, columns=COLUMNS)


def render_used_by(document: dict[str, Any] | None) -> str:
    if not document:
        return ""
    users = document.get("used_by") or []
    size = document.get("size") or document_size(document.get("content"))
    budget = KNOWLEDGE_TOKENS_PER_CHARACTER
    note = (f" Runway reads about {budget:,} tokens of knowledge per character; this one is ~{size['tokens']:,}."
            if size["tokens"] > budget // 5 else "")
    if not users:
        return f"<div class='kn-used' data-testid='used-by'>Not attached to any character yet.{plain(note)}</div>"
    chips = "".join(f"<span class='kn-chip'>{plain(u.get('name'))}</span>" for u in users)
    return f"<div class='kn-used' data-testid='used-by'>Used by {chips}{plain(note)}</div>"


def _error_box(elem_id: str | None = None) -> gr.Markdown:
    return gr.Markdown(visible=False, elem_classes="cs-error", elem_id=elem_id)


# -- Panels --------------------------------------------------------------------------------------

@dataclass
class Shelf:
    summary: gr.HTML
    refresh: gr.Button
    table: gr.Dataframe


def documents_panel() -> Shelf:
    with gr.Row(equal_height=True):
        gr.Markdown("### Knowledge documents", elem_classes="cs-section-title")
        summary = gr.HTML("", elem_id="kn-summary")
        refresh = gr.Button("Refresh", size="sm", variant="secondary", scale=0, min_width=90, elem_id="kn-refresh")
    table = gr.Dataframe(value=documents_table([]), headers=COLUMNS, interactive=False, wrap=True,
                         elem_id="kn-table", column_widths=["30%", "22%", "24%", "16%", "8%"], max_height=420)
    gr.Markdown("Plain text or Markdown, up to 200,000 characters each; a character can use up to 50 "
                "documents (about 50,000 tokens in total). Select a row to open it.", elem_classes="cs-muted")
    return Shelf(summary, refresh, table)


@dataclass
class Editor:
    selected: gr.Dropdown
    name: gr.Textbox
    err_name: gr.Markdown
    content: gr.Textbox
    err_content: gr.Markdown
    save: gr.Button
    delete: gr.Button
    status: gr.HTML


def editor_panel(editable: bool) -> Editor:
    with gr.Column(elem_id="kn-editor", elem_classes=PANEL):
        gr.Markdown("#### Open a document")
        selected = gr.Dropdown(label="Document", choices=[], value=None, elem_id="kn-selected")
        name = gr.Textbox(label="Name", max_lines=1, elem_id="kn-edit-name", interactive=editable)
        err_name = _error_box()
        content = gr.Textbox(label="Content", lines=8, max_lines=20, elem_id="kn-edit-content", interactive=editable)
        err_content = _error_box()
        with gr.Row(visible=editable):
            save = gr.Button("Save changes", variant="primary", elem_id="kn-save")
            delete = gr.Button("Delete", variant="secondary", elem_id="kn-delete")
        status = gr.HTML("", elem_id="kn-doc-status")
    return Editor(selected, name, err_name, content, err_content, save, delete, status)


@dataclass
class Adder:
    files: gr.File
    err_file: gr.Markdown
    name: gr.Textbox
    err_name: gr.Markdown
    content: gr.Textbox
    err_content: gr.Markdown
    add: gr.Button
    status: gr.HTML


def add_panel() -> Adder:
    with gr.Column(elem_id="kn-add", elem_classes=PANEL):
        gr.Markdown("#### Add documents")
        files = gr.File(label="Upload .txt or .md files", file_count="multiple",
                        file_types=[".txt", ".md", ".markdown"], elem_id="kn-files", height=110)
        err_file = _error_box("kn-err-file")
        gr.Markdown("or paste text:", elem_classes="cs-muted")
        name = gr.Textbox(label="Document name", max_lines=1, elem_id="kn-new-name")
        err_name = _error_box("kn-err-new-name")
        content = gr.Textbox(label="Content", lines=6, max_lines=16, elem_id="kn-new-content",
                             placeholder="Paste plain text or Markdown: FAQs, product facts, policies…")
        err_content = _error_box("kn-err-new-content")
        add = gr.Button("Add document", variant="primary", elem_id="kn-add-button")
        status = gr.HTML("", elem_id="kn-add-status")
    return Adder(files, err_file, name, err_name, content, err_content, add, status)


@dataclass
class Attacher:
    used_by: gr.HTML
    character: gr.Dropdown
    attach: gr.Button
    detach: gr.Button
    status: gr.HTML


def attach_panel() -> Attacher:
    with gr.Column(elem_id="kn-attach-panel", elem_classes=PANEL):
        gr.Markdown("#### Characters using the open document")
        used_by = gr.HTML("<div class='kn-used cs-muted'>Open a document to see who uses it.</div>",
                          css_template=USED_BY_CSS, elem_id="kn-used-by")
        character = gr.Dropdown(label="Character", choices=[], value=None, elem_id="kn-character")
        with gr.Row():
            attach = gr.Button("Attach", min_width=80, elem_id="kn-attach")
            detach = gr.Button("Detach", min_width=80, elem_id="kn-detach")
        status = gr.HTML("", elem_id="kn-attach-status")
    return Attacher(used_by, character, attach, detach, status)


# -- What the panels share -----------------------------------------------------------------------

class Library:
    """The documents as listed: the table, the document picker and the character picker."""

    def __init__(self, ctx: PageContext, shelf: Shelf, editor: Editor, attacher: Attacher) -> None:
        self.ctx, self.shelf, self.editor, self.attacher = ctx, shelf, editor, attacher
        self.documents, self.characters = ctx.studio.documents, ctx.studio.characters
        self.changed = ctx.documents_changed
        self.ids = gr.State([])      # the listed documents' ids, in table order
        self.armed = gr.State(None)  # the document whose Delete is armed
        self.outputs = [shelf.table, self.ids, shelf.summary, editor.selected, attacher.character]

    async def listing(self, selected_id: str | None = None) -> dict:
        try:
            documents = await self.documents.list_documents()
        except StudioError as error:
            return {self.shelf.summary: f"<span class='cs-error'>Could not list documents: {plain(error.message)}</span>"}
        total = sum((d.get("size") or {}).get("characters", 0) for d in documents)
        known = {d["id"] for d in documents}
        out: dict = {
            self.shelf.table: documents_table(documents),
            self.ids: [d["id"] for d in documents],
            self.shelf.summary: (f"<span class='cs-muted'>{len(documents)} document{'s' if len(documents) != 1 else ''}"
                                 f" · {total:,} characters</span>"),
            self.editor.selected: gr.Dropdown(choices=[(d["name"], d["id"]) for d in documents],
                                              value=selected_id if selected_id in known else None),
        }
        try:
            avatars = await self.characters.list_characters()
            out[self.attacher.character] = gr.Dropdown(
                choices=[(f"{a.get('name')} ({a.get('status', '').lower()})", a["id"]) for a in avatars])
        except StudioError:
            pass
        return out

    def unarmed(self) -> dict:
        return {self.armed: None, self.editor.delete: gr.Button(value="Delete", variant="secondary")}


# -- Events --------------------------------------------------------------------------------------

def listing_events(ctx: PageContext, library: Library) -> None:
    """The list: on load, Refresh, opening the tab, and when characters change; a row opens its document."""
    selected = library.editor.selected

    async def list_documents(current):
        return await library.listing(current)

    async def initial():
        return await library.listing(None)

    def pick_row(ids, evt: gr.SelectData):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        prefix = str((evt.row_value or [None] * len(COLUMNS))[-1] or "")
        match = next((i for i in ids if prefix and i.startswith(prefix)), None)
        if match is None and isinstance(row, int) and 0 <= row < len(ids):
            match = ids[row]
        return match if match else gr.skip()

    library.shelf.refresh.click(list_documents, selected, library.outputs, api_name="list_documents",
                                show_progress="hidden")
    for source in (ctx.tab_objects["knowledge"].select, ctx.characters_changed.change):
        source(list_documents, selected, library.outputs, api_name=False, show_progress="hidden")
    gr.on(None, initial, None, library.outputs, api_name=False, show_progress="hidden")
    library.shelf.table.select(pick_row, library.ids, selected, api_name=False, queue=False)


def editor_events(ctx: PageContext, library: Library, adder: Adder) -> None:
    """Open a document, save it, or delete it (the second click deletes). A delete also clears the
    add and attach panels' messages, which spoke of documents as they were."""
    editor, used_by = library.editor, library.attacher.used_by
    opened = [editor.name, editor.content, used_by, editor.err_name, editor.err_content, editor.status,
              library.armed, editor.delete]

    async def open_document(document_id):
        reset = {**library.unarmed(), editor.err_name: error_note(None), editor.err_content: error_note(None)}
        if not document_id:  # the status keeps the message of whatever closed it (e.g. a delete)
            return {**reset, editor.name: "", editor.content: "", used_by: ""}
        try:
            document = await library.documents.get_document(document_id)
        except StudioError as error:
            return {**reset, editor.status: message_box(error.message, "error")}
        return {**reset, editor.status: "", editor.name: document.get("name") or "",
                editor.content: document.get("content") or "", used_by: render_used_by(document)}

    async def on_save(document_id, name, content, version):
        out: dict = {editor.err_name: error_note(None), editor.err_content: error_note(None), **library.unarmed()}
        if not document_id:
            return {**out, editor.status: message_box("Open a document first.", "error")}
        try:
            await library.documents.update_document(document_id, name or "", content or "")
        except FormInvalid as invalid:
            out[editor.err_name] = error_note(invalid.errors.get("name"))
            out[editor.err_content] = error_note(invalid.errors.get("content"))
            return {**out, editor.status: message_box(NOTHING_SENT, "error")}
        except StudioError as error:
            return {**out, editor.status: message_box(error.message, "error")}
        return {**out, **await library.listing(document_id), library.changed: version + 1,
                editor.status: message_box(f"Saved “{(name or '').strip()}”.", "ready")}

    async def on_delete(document_id, armed_id, name, version):
        if not document_id:
            return {editor.status: message_box("Open a document first.", "error")}
        if armed_id != document_id:
            return {library.armed: document_id,
                    editor.delete: gr.Button(value=f"Really delete “{(name or '').strip()[:40]}”?", variant="stop"),
                    editor.status: message_box("Deleting also detaches it from every character. Click again "
                                               "to delete.", "info")}
        try:
            await library.documents.delete_document(document_id)
        except StudioError as error:
            return {library.armed: None, editor.status: message_box(error.message, "error")}
        return {**await library.listing(None), **library.unarmed(), editor.name: "", editor.content: "",
                used_by: "", library.changed: version + 1, adder.status: "", library.attacher.status: "",
                editor.status: message_box(f"Deleted “{(name or '').strip()}”.", "info")}

    outputs = [*opened, *library.outputs, library.changed]
    editor.selected.change(open_document, editor.selected, opened, api_name=False, show_progress="hidden")
    editor.save.click(ctx.owner_only(on_save), [editor.selected, editor.name, editor.content, library.changed],
                      outputs, api_name="save_document", show_progress="minimal")
    editor.delete.click(ctx.owner_only(on_delete), [editor.selected, library.armed, editor.name, library.changed],
                        [*outputs, adder.status, library.attacher.status], api_name="delete_document",
                        show_progress="minimal")
    editor.name.blur(lambda v: error_note(check_doc_name(v)), editor.name, editor.err_name, api_name=False,
                     queue=False)
    editor.content.blur(lambda v: error_note(check_doc_content(v)), editor.content, editor.err_content,
                        api_name=False, queue=False)


def add_events(ctx: PageContext, library: Library, adder: Adder) -> None:
    """Add pasted text, or uploaded .txt / .md files (each checked; the good ones are added)."""

    async def on_add(name, content, version):
        out: dict = {adder.err_name: error_note(None), adder.err_content: error_note(None)}
        try:
            document = await library.documents.create_document(name or "", content or "")
        except FormInvalid as invalid:
            out[adder.err_name] = error_note(invalid.errors.get("name"))
            out[adder.err_content] = error_note(invalid.errors.get("content"))
            return {**out, adder.status: message_box(NOTHING_SENT, "error")}
        except StudioError as error:
            return {**out, adder.status: message_box(error.message, "error")}
        return {**out, **await library.listing(document["id"]), adder.name: "", adder.content: "",
                library.changed: version + 1, adder.status: message_box(f"Added “{document.get('name')}”.", "ready")}

    async def on_files(paths, version):
        if not paths:
            return {adder.err_file: error_note(None)}
        problems, parsed = _read_files(paths if isinstance(paths, list) else [paths])
        added, last_id = [], None
        for name, content in parsed:
            try:
                document = await library.documents.create_document(name, content)
            except StudioError as error:
                problems.append(f"“{name}”: {error.message}")
                continue
            added.append(name)
            last_id = document["id"]
        # The files are a new attempt: the pasted fields' errors of the last one go.
        out: dict = {adder.err_file: error_note(" ".join(problems) if problems else None), adder.files: None,
                     adder.err_name: error_note(None), adder.err_content: error_note(None)}
        if not added:
            return {**out, adder.status: message_box("Nothing was added.", "error")}
        return {**out, **await library.listing(last_id), library.changed: version + 1,
                adder.status: message_box(f"Added {', '.join('“' + n + '”' for n in added)}.", "ready")}

    adder.add.click(ctx.owner_only(on_add), [adder.name, adder.content, library.changed],
                    [adder.err_name, adder.err_content, adder.status, adder.name, adder.content, library.changed,
                     *library.outputs],
                    api_name="add_document", show_progress="minimal")
    adder.files.upload(ctx.owner_only(on_files), [adder.files, library.changed],
                       [adder.err_file, adder.files, adder.status, adder.err_name, adder.err_content, library.changed,
                        *library.outputs],
                       api_name=False, show_progress="minimal")
    adder.name.blur(lambda v: error_note(check_doc_name(v) if v else None), adder.name, adder.err_name,
                    api_name=False, queue=False)


def _read_files(paths: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """(problems, [(name, text)]) of uploaded files, each checked as a document."""
    problems, parsed = [], []
    for path in paths:
        filename = Path(path).name
        try:
            parsed.append(document_from_file(filename, Path(path).read_bytes()))
        except FormInvalid as invalid:
            problems.append(" ".join(invalid.errors.values()))
        except OSError:
            problems.append(f"File “{filename}” could not be read; upload it again.")
    return problems, parsed


def attach_events(ctx: PageContext, library: Library) -> None:
    """Attach the open document to a character, or detach it."""
    attacher, selected = library.attacher, library.editor.selected

    async def change(document_id, avatar_id, version, attaching: bool) -> dict:
        if not document_id:
            return {attacher.status: message_box("Open a document first.", "error")}
        try:
            if attaching:
                avatar = await library.documents.attach_document(document_id, avatar_id)
            else:
                avatar = await library.documents.detach_document(document_id, avatar_id)
            document = await library.documents.get_document(document_id)
        except FormInvalid as invalid:
            return {attacher.status: message_box(" ".join(invalid.errors.values()), "error")}
        except StudioError as error:
            return {attacher.status: message_box(error.message, "error")}
        out = await library.listing(document_id)
        out.pop(attacher.character, None)  # keep the character chosen
        verb = "Attached to" if attaching else "Detached from"
        return {**out, attacher.used_by: render_used_by(document), library.changed: version + 1,
                attacher.status: message_box(f"{verb} “{avatar.get('name')}”.", "ready")}

    async def on_attach(document_id, avatar_id, version):
        return await change(document_id, avatar_id, version, True)

    async def on_detach(document_id, avatar_id, version):
        return await change(document_id, avatar_id, version, False)

    outputs = [attacher.used_by, attacher.status, library.changed, *library.outputs]
    inputs = [selected, attacher.character, library.changed]
    attacher.attach.click(ctx.owner_only(on_attach), inputs, outputs, api_name="attach_document",
                          show_progress="minimal")
    attacher.detach.click(ctx.owner_only(on_detach), inputs, outputs, api_name="detach_document",
                          show_progress="minimal")
