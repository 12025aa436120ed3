"""Knowledge tab: the documents characters draw on, from uploaded .txt / .md files or pasted text.

Left: every document with its size and the characters that use it. Right: add documents, then
open one to edit, delete, or attach it to / detach it from a character. In a public demo the
documents can be read but not changed: the controls are hidden and the handlers refuse.

Shared: publishes `ctx.shared["documents_changed"]` (a `gr.State` int that grows whenever documents
or their attachments change) and listens to `ctx.shared["characters_changed"]`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from pages.characters import character_service
from pages.context import PageContext
from pages.text import error_note, plain
from studio.characters import (
    KNOWLEDGE_TOKENS_PER_CHARACTER,
    FormInvalid,
    check_doc_content,
    check_doc_name,
    document_from_file,
    document_size,
)
from studio.errors import StudioError

COLUMNS = ["Name", "Size", "Used by", "Updated", "ID"]

KNOWLEDGE_STYLE = """
<style>
.kn-used { font-size: 0.88rem; }
.kn-chip { display: inline-block; padding: 2px 9px; margin: 2px 4px 2px 0; border-radius: 999px;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); font-size: 0.82rem; }
#kn-editor, #kn-add, #kn-attach-panel { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 12px 14px;
  background: var(--block-background-fill); }
</style>
"""


def _box(text: str, kind: str) -> str:
    return f"<div class='cs-progress {kind}' data-kind='{kind}'>{plain(text)}</div>" if text else ""


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


def build(ctx: PageContext) -> None:
    service = character_service(ctx)
    editable = not ctx.public_demo  # a public demo shows the documents but changes nothing
    gr.HTML(KNOWLEDGE_STYLE, padding=False)

    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            with gr.Row(equal_height=True):
                gr.Markdown("### Knowledge documents", elem_classes="cs-section-title")
                summary = gr.HTML("", elem_id="kn-summary")
                refresh = gr.Button("Refresh", size="sm", variant="secondary", scale=0, min_width=90,
                                    elem_id="kn-refresh")
            table = gr.Dataframe(value=documents_table([]), headers=COLUMNS, interactive=False, wrap=True,
                                 elem_id="kn-table", column_widths=["30%", "22%", "24%", "16%", "8%"],
                                 max_height=420)
            gr.Markdown("Plain text or Markdown, up to 200,000 characters each; a character can use up to 50 "
                        "documents (about 50,000 tokens in total). Select a row to open it.",
                        elem_classes="cs-muted")
            with gr.Column(elem_id="kn-editor"):
                gr.Markdown("#### Open a document")
                selected = gr.Dropdown(label="Document", choices=[], value=None, elem_id="kn-selected")
                edit_name = gr.Textbox(label="Name", max_lines=1, elem_id="kn-edit-name", interactive=editable)
                err_edit_name = gr.Markdown(visible=False, elem_classes="cs-error")
                edit_content = gr.Textbox(label="Content", lines=8, max_lines=20, elem_id="kn-edit-content",
                                          interactive=editable)
                err_edit_content = gr.Markdown(visible=False, elem_classes="cs-error")
                with gr.Row(visible=editable):
                    save = gr.Button("Save changes", variant="primary", elem_id="kn-save")
                    delete = gr.Button("Delete", variant="secondary", elem_id="kn-delete")
                doc_status = gr.HTML("", elem_id="kn-doc-status")
        with gr.Column(scale=2, min_width=380, visible=editable):
            with gr.Column(elem_id="kn-add"):
                gr.Markdown("#### Add documents")
                files = gr.File(label="Upload .txt or .md files", file_count="multiple",
                                file_types=[".txt", ".md", ".markdown"], elem_id="kn-files", height=110)
                err_file = gr.Markdown(visible=False, elem_classes="cs-error", elem_id="kn-err-file")
                gr.Markdown("or paste text:", elem_classes="cs-muted")
                new_name = gr.Textbox(label="Document name", max_lines=1, elem_id="kn-new-name")
                err_new_name = gr.Markdown(visible=False, elem_classes="cs-error", elem_id="kn-err-new-name")
                new_content = gr.Textbox(label="Content", lines=6, max_lines=16, elem_id="kn-new-content",
                                         placeholder="Paste plain text or Markdown: FAQs, product facts, policies…")
                err_new_content = gr.Markdown(visible=False, elem_classes="cs-error", elem_id="kn-err-new-content")
                add = gr.Button("Add document", variant="primary", elem_id="kn-add-button")
                add_status = gr.HTML("", elem_id="kn-add-status")
            with gr.Column(elem_id="kn-attach-panel"):
                gr.Markdown("#### Characters using the open document")
                used_by = gr.HTML("<div class='kn-used cs-muted'>Open a document to see who uses it.</div>",
                                  elem_id="kn-used-by")
                character = gr.Dropdown(label="Character", choices=[], value=None, elem_id="kn-character")
                with gr.Row():
                    attach = gr.Button("Attach", min_width=80, elem_id="kn-attach")
                    detach = gr.Button("Detach", min_width=80, elem_id="kn-detach")
                attach_status = gr.HTML("", elem_id="kn-attach-status")

    documents_changed = gr.State(0)
    ctx.shared["documents_changed"] = documents_changed
    docs_state = gr.State([])
    armed = gr.State(None)

    async def listing(selected_id: str | None = None) -> dict:
        """Documents table, the document picker and the character picker."""
        out: dict = {}
        try:
            documents = await service.list_documents()
        except StudioError as error:
            return {summary: f"<span class='cs-error'>Could not list documents: {plain(error.message)}</span>"}
        out[table] = documents_table(documents)
        out[docs_state] = [d["id"] for d in documents]
        total = sum((d.get("size") or {}).get("characters", 0) for d in documents)
        out[summary] = (f"<span class='cs-muted'>{len(documents)} document{'s' if len(documents) != 1 else ''}"
                        f" · {total:,} characters</span>")
        known = {d["id"] for d in documents}
        out[selected] = gr.Dropdown(choices=[(d["name"], d["id"]) for d in documents],
                                    value=selected_id if selected_id in known else None)
        try:
            avatars = await service.list_characters()
            out[character] = gr.Dropdown(choices=[(f"{a.get('name')} ({a.get('status', '').lower()})", a["id"])
                                                  for a in avatars])
        except StudioError:
            pass
        return out

    list_outputs = [table, docs_state, summary, selected, character]

    async def list_documents(current):
        return await listing(current)

    refresh.click(list_documents, selected, list_outputs, api_name="list_documents", show_progress="hidden")
    ctx.tab_objects["knowledge"].select(list_documents, selected, list_outputs, api_name=False,
                                        show_progress="hidden")
    async def initial():
        return await listing(None)

    gr.on(None, initial, None, list_outputs, api_name=False, show_progress="hidden")

    # -- open / edit ---------------------------------------------------------------------------

    editor = [edit_name, edit_content, used_by, err_edit_name, err_edit_content, doc_status, armed, delete]

    async def open_document(document_id):
        reset = {armed: None, delete: gr.Button(value="Delete", variant="secondary"),
                 err_edit_name: error_note(None), err_edit_content: error_note(None), doc_status: ""}
        if not document_id:
            reset.pop(doc_status)  # keep the message of whatever closed it (e.g. a delete)
            return {**reset, edit_name: "", edit_content: "", used_by: ""}
        try:
            document = await service.get_document(document_id)
        except StudioError as error:
            return {**reset, doc_status: _box(error.message, "error")}
        return {**reset, edit_name: document.get("name") or "", edit_content: document.get("content") or "",
                used_by: render_used_by(document)}

    selected.change(open_document, selected, editor, api_name=False, show_progress="hidden")

    def pick_row(ids, evt: gr.SelectData):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        prefix = str((evt.row_value or [None] * len(COLUMNS))[-1] or "")
        match = next((i for i in ids if prefix and i.startswith(prefix)), None)
        if match is None and isinstance(row, int) and 0 <= row < len(ids):
            match = ids[row]
        return match if match else gr.skip()

    table.select(pick_row, docs_state, selected, api_name=False, queue=False)

    edit_name.blur(lambda v: error_note(check_doc_name(v)), edit_name, err_edit_name, api_name=False, queue=False)
    edit_content.blur(lambda v: error_note(check_doc_content(v)), edit_content, err_edit_content, api_name=False,
                      queue=False)
    new_name.blur(lambda v: error_note(check_doc_name(v) if v else None), new_name, err_new_name, api_name=False,
                  queue=False)

    async def on_save(document_id, name, content, version):
        out: dict = {err_edit_name: error_note(None), err_edit_content: error_note(None), armed: None,
                     delete: gr.Button(value="Delete", variant="secondary")}
        if not document_id:
            return {**out, doc_status: _box("Open a document first.", "error")}
        try:
            await service.update_document(document_id, name or "", content or "")
        except FormInvalid as invalid:
            out[err_edit_name] = error_note(invalid.errors.get("name"))
            out[err_edit_content] = error_note(invalid.errors.get("content"))
            return {**out, doc_status: _box("Nothing was sent: fix the fields marked above.", "error")}
        except StudioError as error:
            return {**out, doc_status: _box(error.message, "error")}
        out.update(await listing(document_id))
        out.update({doc_status: _box(f"Saved “{(name or '').strip()}”.", "ready"), documents_changed: version + 1})
        return out

    save_outputs = [*editor, *list_outputs, documents_changed]
    save.click(ctx.owner_only(on_save), [selected, edit_name, edit_content, documents_changed], save_outputs,
               api_name="save_document", show_progress="minimal")

    async def on_delete(document_id, armed_id, name, version):
        if not document_id:
            return {doc_status: _box("Open a document first.", "error")}
        if armed_id != document_id:
            return {armed: document_id, delete: gr.Button(value=f"Really delete “{(name or '').strip()[:40]}”?",
                                                           variant="stop"),
                    doc_status: _box("Deleting also detaches it from every character. Click again to delete.",
                                     "info")}
        try:
            await service.delete_document(document_id)
        except StudioError as error:
            return {armed: None, doc_status: _box(error.message, "error")}
        out = await listing(None)
        out.update({armed: None, delete: gr.Button(value="Delete", variant="secondary"), edit_name: "",
                    edit_content: "", used_by: "", documents_changed: version + 1,
                    doc_status: _box(f"Deleted “{(name or '').strip()}”.", "info")})
        return out

    delete.click(ctx.owner_only(on_delete), [selected, armed, edit_name, documents_changed], save_outputs,
                 api_name="delete_document", show_progress="minimal")

    async def on_attach_change(document_id, avatar_id, version, attaching: bool):
        if not document_id:
            return {attach_status: _box("Open a document first.", "error")}
        try:
            if attaching:
                avatar = await service.attach_document(document_id, avatar_id)
            else:
                avatar = await service.detach_document(document_id, avatar_id)
            document = await service.get_document(document_id)
        except FormInvalid as invalid:
            return {attach_status: _box(" ".join(invalid.errors.values()), "error")}
        except StudioError as error:
            return {attach_status: _box(error.message, "error")}
        verb = "Attached to" if attaching else "Detached from"
        out = await listing(document_id)
        out.pop(character, None)
        out.update({used_by: render_used_by(document), documents_changed: version + 1,
                    attach_status: _box(f"{verb} “{avatar.get('name')}”.", "ready")})
        return out

    async def on_attach(document_id, avatar_id, version):
        return await on_attach_change(document_id, avatar_id, version, True)

    async def on_detach(document_id, avatar_id, version):
        return await on_attach_change(document_id, avatar_id, version, False)

    attach_outputs = [used_by, attach_status, documents_changed, *list_outputs]
    attach.click(ctx.owner_only(on_attach), [selected, character, documents_changed], attach_outputs,
                 api_name="attach_document", show_progress="minimal")
    detach.click(ctx.owner_only(on_detach), [selected, character, documents_changed], attach_outputs,
                 api_name="detach_document", show_progress="minimal")

    # -- add ---------------------------------------------------------------------------------

    async def on_add(name, content, version):
        out: dict = {err_new_name: error_note(None), err_new_content: error_note(None)}
        try:
            document = await service.create_document(name or "", content or "")
        except FormInvalid as invalid:
            out[err_new_name] = error_note(invalid.errors.get("name"))
            out[err_new_content] = error_note(invalid.errors.get("content"))
            return {**out, add_status: _box("Nothing was sent: fix the fields marked above.", "error")}
        except StudioError as error:
            return {**out, add_status: _box(error.message, "error")}
        out.update(await listing(document["id"]))
        out.update({new_name: "", new_content: "", documents_changed: version + 1,
                    add_status: _box(f"Added “{document.get('name')}”.", "ready")})
        return out

    add_outputs = [err_new_name, err_new_content, add_status, new_name, new_content, documents_changed, *list_outputs]
    add.click(ctx.owner_only(on_add), [new_name, new_content, documents_changed], add_outputs, api_name="add_document",
              show_progress="minimal")

    async def on_files(paths, version):
        if not paths:
            return {err_file: error_note(None)}
        problems, parsed = [], []
        for path in paths if isinstance(paths, list) else [paths]:
            filename = Path(path).name
            try:
                parsed.append(document_from_file(filename, Path(path).read_bytes()))
            except FormInvalid as invalid:
                problems.append(" ".join(invalid.errors.values()))
            except OSError:
                problems.append(f"File “{filename}” could not be read; upload it again.")
        added, last_id = [], None
        for name, content in parsed:
            try:
                document = await service.create_document(name, content)
            except StudioError as error:
                problems.append(f"“{name}”: {error.message}")
                continue
            added.append(name)
            last_id = document["id"]
        out: dict = {err_file: error_note(" ".join(problems) if problems else None), files: None}
        if added:
            out.update(await listing(last_id))
            out[documents_changed] = version + 1
            out[add_status] = _box(f"Added {', '.join('“' + n + '”' for n in added)}.", "ready")
        else:
            out[add_status] = _box("Nothing was added.", "error")
        return out

    files.upload(ctx.owner_only(on_files), [files, documents_changed],
                 [err_file, files, add_status, documents_changed, *list_outputs], api_name=False,
                 show_progress="minimal")

    # -- other tabs --------------------------------------------------------------------------

    def wire_other_tabs() -> None:
        characters_changed = ctx.shared.get("characters_changed")
        if characters_changed is not None:
            characters_changed.change(list_documents, selected, list_outputs, api_name=False, show_progress="hidden")

    ctx.after_build.append(wire_other_tabs)

