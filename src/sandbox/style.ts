/** The sandbox page's look: close enough to Slack's that a screenshot reads like a channel. */
export const SANDBOX_CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.46 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1d1c1d;background:#fff}
#app{display:grid;grid-template-columns:260px 1fr;height:100vh}
.sidebar{background:#3f0e40;color:#cfc3cf;padding:12px 0;overflow:auto}
.sidebar h1{color:#fff;font-size:18px;margin:0 16px 12px}
.sidebar h2{font-size:13px;font-weight:600;margin:16px 16px 4px;color:#cfc3cf;text-transform:none}
.nav{display:block;width:100%;text-align:left;background:none;border:0;color:#cfc3cf;padding:3px 16px;font:inherit;cursor:pointer}
.nav.active{background:#1164a3;color:#fff}
.nav .badge{float:right;background:#cd2553;color:#fff;border-radius:9px;padding:0 6px;font-size:12px}
.controls{padding:0 16px}
.controls label{display:block;font-size:12px;margin-top:8px}
.controls select,.controls input{width:100%;margin-top:2px;font:inherit;font-size:13px;padding:3px}
.controls .row{display:flex;gap:4px;margin-top:4px}
.controls .row button{flex:1}
.controls button{font:inherit;font-size:13px;padding:3px 6px;border-radius:4px;border:1px solid #ccc;background:#fff;cursor:pointer}
.health{font-size:12px;margin-top:4px}
.main{display:flex;flex-direction:column;min-width:0;height:100vh}
.topbar{border-bottom:1px solid #ddd;padding:10px 20px;font-weight:700;display:flex;justify-content:space-between;align-items:center}
.topbar .who{font-weight:400;font-size:13px;color:#616061}
.messages{flex:1;overflow:auto;padding:8px 0 16px}
.home{padding:16px 24px;max-width:760px}
.empty{color:#616061;padding:20px}
.msg{display:grid;grid-template-columns:36px 1fr;gap:8px;padding:6px 20px}
.msg:hover{background:#f8f8f8}
.avatar{width:36px;height:36px;border-radius:4px;background:#1f3a5f;color:#fff;display:flex;align-items:center;justify-content:center;font-weight:700}
.avatar.person{background:#e8912d}
.meta{font-size:15px}.meta b{margin-right:4px}.meta .app{font-size:10px;background:#ddd;color:#555;padding:0 3px;border-radius:2px;margin-right:6px;vertical-align:2px}
.meta time{color:#616061;font-size:12px}.meta .edited{color:#616061;font-size:12px;margin-left:4px}
.ephemeral{background:#f4f8fb}.ephemeral .only{font-size:12px;color:#616061;margin-bottom:2px}
.blk{margin:4px 0}
.blk.header{font-size:18px;font-weight:900}
.blk.divider{border:0;border-top:1px solid #ddd;margin:8px 0}
.blk.context{font-size:12px;color:#616061;display:flex;gap:8px;flex-wrap:wrap;align-items:center}
.section{display:flex;gap:12px;justify-content:space-between;align-items:flex-start}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px;margin-top:4px}
.actions{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.btn{font:inherit;font-size:14px;font-weight:700;padding:3px 12px;min-height:30px;border-radius:4px;border:1px solid #bbb;background:#fff;color:#1d1c1d;cursor:pointer}
.btn:hover{background:#f4f4f4}
.btn.primary{background:#007a5a;border-color:#007a5a;color:#fff}
.btn.danger{background:#fff;border-color:#e01e5a;color:#e01e5a}
.btn:disabled{opacity:.5;cursor:progress}
select.menu{font:inherit;font-size:14px;padding:4px;border-radius:4px;border:1px solid #bbb;min-height:30px}
.checks label{display:block;font-size:14px}
code{font:12px Monaco,Menlo,Consolas,monospace;color:#e01e5a;background:#f6f6f6;border:1px solid #ddd;border-radius:3px;padding:0 3px}
pre{font:12px Monaco,Menlo,Consolas,monospace;background:#f8f8f8;border:1px solid #ddd;border-radius:4px;padding:8px;white-space:pre-wrap;margin:4px 0}
blockquote{border-left:4px solid #ddd;margin:4px 0;padding-left:8px}
.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}
a{color:#1264a3}
.reactions{display:flex;gap:4px;flex-wrap:wrap;margin-top:4px}
.reaction{border:1px solid #ddd;background:#f8f8f8;border-radius:12px;padding:0 8px;font:inherit;font-size:13px;cursor:pointer}
.reaction.mine{border-color:#1264a3;background:#e8f5fa}
.add-reaction{border:1px dashed #bbb;background:#fff;border-radius:12px;padding:0 8px;font-size:13px;cursor:pointer;color:#616061}
.palette{display:inline-flex;gap:2px;margin-left:4px;opacity:0}
.msg:hover>.body>.reactions>.palette,.palette:focus-within{opacity:1}
.thread{margin:6px 0 0 0;border-left:2px solid #ddd;padding-left:8px}
.thread-label{font-size:12px;color:#1264a3;font-weight:700;margin-top:4px}
.thread .msg{padding:4px 0}
.composer{border-top:1px solid #ddd;padding:12px 20px}
.composer form{display:flex;gap:8px}
.composer input{flex:1;font:inherit;padding:8px;border:1px solid #bbb;border-radius:6px}
.composer .hint{font-size:12px;color:#616061;margin-top:4px;min-height:18px}
.error{color:#e01e5a}
.modal-bg{position:fixed;inset:0;background:rgba(0,0,0,.4);display:flex;align-items:center;justify-content:center}
.modal{background:#fff;border-radius:8px;padding:20px;width:420px;box-shadow:0 8px 30px rgba(0,0,0,.3)}
.modal h3{margin:0 0 8px}.modal .row{display:flex;gap:8px;justify-content:flex-end;margin-top:16px}
`;
