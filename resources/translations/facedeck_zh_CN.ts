<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>CameraPanel</name>
    <message>
        <location filename="../../desktop/gui/live_panel.py" line="+53"/>
        <source>Camera number, video file or stream URL</source>
        <translation>摄像头编号、视频文件或流地址</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Look for cameras again</source>
        <translation>重新查找摄像头</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>File…</source>
        <translation>文件…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Play a video file as the camera</source>
        <translation>把视频文件当作摄像头播放</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+5"/>
        <source>Camera default</source>
        <translation>摄像头默认</translation>
    </message>
    <message>
        <location line="+1"/>
        <source> fps</source>
        <translation> 帧/秒</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mirror</source>
        <translation>镜像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Repeat a file</source>
        <translation>循环播放文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Play a video file again from the start when it ends</source>
        <translation>视频文件播放结束后从头重新播放</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resolution</source>
        <translation>分辨率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Frame rate</source>
        <translation>帧率</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>{0} ({1})</source>
        <translation>{0}（{1}）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>No camera found; a video file or stream URL works too.</source>
        <translation>未找到摄像头；也可以使用视频文件或流地址。</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Play a video as the camera</source>
        <translation>把视频当作摄像头播放</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Videos ({0})</source>
        <translation>视频（{0}）</translation>
    </message>
</context>
<context>
    <name>ConsentBox</name>
    <message>
        <location filename="../../desktop/gui/consent.py" line="+25"/>
        <source>I will only swap faces of people who have given their consent, and I will not use the results to deceive, harass or defame anyone.</source>
        <translation>我只会替换已经同意的人的面孔，并且不会用生成的结果去欺骗、骚扰或诽谤任何人。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Responsible use</source>
        <translation>负责任地使用</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Licence terms</source>
        <translation>许可条款</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Every image and video FaceDeck writes is marked as synthetic (AI-generated) media in its metadata.</source>
        <translation>FaceDeck 写出的每张图片和每个视频都会在元数据中标记为合成（AI 生成）媒体。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Before the first download, please read the licences of these models:</source>
        <translation>首次下载之前，请阅读这些模型的许可：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>By downloading them you accept these terms, and confirm:</source>
        <translation>下载即表示你接受这些条款，并确认：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>FaceDeck swaps faces in photos and videos. Before you start, please confirm:</source>
        <translation>FaceDeck 可以替换照片和视频中的人脸。开始之前，请确认：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>I agree</source>
        <translation>我同意</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decline</source>
        <translation>拒绝</translation>
    </message>
</context>
<context>
    <name>ErrorLine</name>
    <message>
        <location filename="../../desktop/gui/log_panel.py" line="+166"/>
        <source>Details</source>
        <translation>详情</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show the log</source>
        <translation>显示日志</translation>
    </message>
</context>
<context>
    <name>JobController</name>
    <message>
        <location filename="../../desktop/gui/controllers.py" line="+223"/>
        <source>Done: {0}</source>
        <translation>完成：{0}</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Cancelled; no output was written</source>
        <translation>已取消；没有写出任何输出</translation>
    </message>
</context>
<context>
    <name>LanguageMenu</name>
    <message>
        <location filename="../../desktop/gui/language_menu.py" line="+23"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Applies the next time FaceDeck starts</source>
        <translation>下次启动 FaceDeck 时生效</translation>
    </message>
</context>
<context>
    <name>LiveController</name>
    <message>
        <location filename="../../desktop/gui/live_controller.py" line="+184"/>
        <location line="+150"/>
        <source>Recording saved: {0}</source>
        <translation>录像已保存：{0}</translation>
    </message>
    <message>
        <location line="-108"/>
        <source>The source ended</source>
        <translation>视频源已结束</translation>
    </message>
    <message>
        <location line="+99"/>
        <source>Recording to {0}</source>
        <translation>正在录像到 {0}</translation>
    </message>
</context>
<context>
    <name>LivePanel</name>
    <message>
        <location filename="../../desktop/gui/live_panel.py" line="+52"/>
        <location line="+58"/>
        <source>Start live</source>
        <translation>开始实时</translation>
    </message>
    <message>
        <location line="-57"/>
        <source>Record</source>
        <translation>录像</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Folder…</source>
        <translation>文件夹…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Virtual camera</source>
        <translation>虚拟摄像头</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Send the swapped frames to a virtual camera other programs can use</source>
        <translation>把换脸后的画面发送到其他程序可以使用的虚拟摄像头</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+66"/>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location line="-44"/>
        <source>Recordings are saved here as facedeck-live-&lt;date&gt;-&lt;time&gt;.mp4</source>
        <translation>录像以 facedeck-live-&lt;日期&gt;-&lt;时间&gt;.mp4 保存在这里</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Save recordings in</source>
        <translation>录像保存位置</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Stop live</source>
        <translation>停止实时</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source> at {0:g} fps</source>
        <translation>，{0:g} 帧/秒</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Live: {0}, {1}×{2}{3}</source>
        <translation>实时：{0}，{1}×{2}{3}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> (asked for {0})</source>
        <translation>（请求的是 {0}）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Stopped: {0}</source>
        <translation>已停止：{0}</translation>
    </message>
</context>
<context>
    <name>LogPanel</name>
    <message>
        <location filename="../../desktop/gui/log_panel.py" line="-96"/>
        <source>Log</source>
        <translation>日志</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Warnings and errors appear here.</source>
        <translation>警告和错误会显示在这里。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show details (debug)</source>
        <translation>显示详细信息（调试）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open log file</source>
        <translation>打开日志文件</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>No log file in this session</source>
        <translation>本次运行没有日志文件</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/gui/main_window.py" line="+66"/>
        <source>FaceDeck</source>
        <translation>FaceDeck</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Models…</source>
        <translation>模型…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Provider: {0}</source>
        <translation>执行设备：{0}</translation>
    </message>
    <message>
        <location line="+139"/>
        <source>Models missing in {0}: {1}. Swapping needs them; get them in the models dialog.</source>
        <translation>{0} 中缺少模型：{1}。换脸需要这些模型；请在模型对话框中获取。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Models: {0} missing</source>
        <translation>模型：缺少 {0} 个</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Models: ready</source>
        <translation>模型：就绪</translation>
    </message>
    <message>
        <location line="+79"/>
        <source>A job is running</source>
        <translation>任务正在运行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop the running job and close? Its unfinished output is removed.</source>
        <translation>停止正在运行的任务并关闭吗？未完成的输出将被删除。</translation>
    </message>
</context>
<context>
    <name>MappingPanel</name>
    <message>
        <location filename="../../desktop/gui/mapping_panel.py" line="+37"/>
        <source>The largest face</source>
        <translation>最大的人脸</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Every face</source>
        <translation>所有人脸</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Faces like the face clicked</source>
        <translation>与所点人脸相似的人脸</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Largest identity distance that counts as the same person</source>
        <translation>仍算作同一个人的最大身份距离</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+50"/>
        <source>Click a face in the preview</source>
        <translation>在预览中点击一张人脸</translation>
    </message>
    <message>
        <location line="-45"/>
        <source>Clear mappings</source>
        <translation>清除对应关系</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Faces to swap</source>
        <translation>要替换的人脸</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Swap</source>
        <translation>换脸</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Likeness distance</source>
        <translation>相似距离</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Face</source>
        <translation>人脸</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Put on it</source>
        <translation>替换为</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>(leave this face alone)</source>
        <translation>（保留这张人脸）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Face {0}</source>
        <translation>人脸 {0}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Mappings decide: {0}</source>
        <translation>按对应关系：{0}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No mappings: the mode above decides.</source>
        <translation>没有对应关系：由上面的模式决定。</translation>
    </message>
</context>
<context>
    <name>ModelPrompts</name>
    <message>
        <location filename="../../desktop/gui/model_prompts.py" line="+69"/>
        <source>Import a model file</source>
        <translation>导入模型文件</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Model files (*.onnx *.zip);;All files (*)</source>
        <translation>模型文件 (*.onnx *.zip);;所有文件 (*)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Import the models in a folder</source>
        <translation>导入文件夹中的模型</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Which model is this?</source>
        <translation>这是哪个模型？</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>FaceDeck cannot tell from its name which model {name} is:</source>
        <translation>FaceDeck 无法根据文件名判断 {name} 是哪个模型：</translation>
    </message>
</context>
<context>
    <name>ModelsDialog</name>
    <message>
        <location filename="../../desktop/gui/models_dialog.py" line="+79"/>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Models folder: {folder}</source>
        <translation>模型文件夹：{folder}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Download selected</source>
        <translation>下载所选</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Download missing</source>
        <translation>下载缺少的模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Import file…</source>
        <translation>导入文件…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Import folder…</source>
        <translation>导入文件夹…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Verify</source>
        <translation>校验</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Check every model file against its published SHA-256</source>
        <translation>用发布的 SHA-256 校验每个模型文件</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+75"/>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <location line="+187"/>
        <source>Every model file present was checked against its published SHA-256.</source>
        <translation>已用发布的 SHA-256 校验了现有的每个模型文件。</translation>
    </message>
    <message>
        <location line="-149"/>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Licence terms not accepted; nothing was downloaded.</source>
        <translation>未接受许可条款；没有下载任何内容。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Downloading…</source>
        <translation>正在下载…</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>{received} of {total}</source>
        <translation>{received} / {total}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{file}: {amount}, {rate}/s, {eta} left</source>
        <translation>{file}：{amount}，{rate}/秒，剩余 {eta}</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Download cancelled. What has arrived is kept; the next download resumes it.</source>
        <translation>下载已取消。已下载的部分会保留，下次下载将从断点继续。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{failed} of {total} model(s) not downloaded: {reasons}</source>
        <translation>{total} 个模型中有 {failed} 个未下载：{reasons}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>All requested models are downloaded and verified.</source>
        <translation>所有请求的模型均已下载并校验。</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Importing {path}…</source>
        <translation>正在导入 {path}…</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Found no model file FaceDeck knows in {path}.</source>
        <translation>在 {path} 中没有找到 FaceDeck 认识的模型文件。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{n} imported and verified</source>
        <translation>{n} 个已导入并校验</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{n} imported as trusted</source>
        <translation>{n} 个已作为信任文件导入</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{n} already present</source>
        <translation>{n} 个已存在</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{n} not imported (not the published file)</source>
        <translation>{n} 个未导入（不是发布的文件）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{n} failed</source>
        <translation>{n} 个失败</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Nothing to import.</source>
        <translation>没有可导入的内容。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Checking the model files…</source>
        <translation>正在校验模型文件…</translation>
    </message>
</context>
<context>
    <name>ModelsTable</name>
    <message>
        <location filename="../../desktop/gui/models_table.py" line="+25"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Licence</source>
        <translation>许可</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Purpose</source>
        <translation>用途</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>verified</source>
        <translation>已校验</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>trusted</source>
        <translation>已信任</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>present (not checked yet)</source>
        <translation>已存在（尚未校验）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>missing</source>
        <translation>缺失</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>corrupt</source>
        <translation>已损坏</translation>
    </message>
</context>
<context>
    <name>OptionsPanel</name>
    <message>
        <location filename="../../desktop/gui/options_panel.py" line="+83"/>
        <source>Enhance the face (GFPGAN)</source>
        <translation>增强人脸（GFPGAN）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Keep the target&apos;s mouth</source>
        <translation>保留目标的嘴部</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>auto ({0})</source>
        <translation>自动（{0}）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Applies the next time FaceDeck starts</source>
        <translation>下次启动 FaceDeck 时生效</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>default</source>
        <translation>默认</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>codec default (e.g. medium, fast)</source>
        <translation>编码器默认（如 medium、fast）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Swap</source>
        <translation>换脸</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Swapper model</source>
        <translation>换脸模型</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Enhance strength</source>
        <translation>增强强度</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Mask blur</source>
        <translation>遮罩模糊</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mask padding</source>
        <translation>遮罩边距</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Detector and device</source>
        <translation>检测器与设备</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Detector size</source>
        <translation>检测尺寸</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Detector threshold</source>
        <translation>检测阈值</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Execution provider</source>
        <translation>执行设备</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Video output</source>
        <translation>视频输出</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Codec</source>
        <translation>编码器</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Quality</source>
        <translation>质量</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Automatic ({0})</source>
        <translation>自动（{0}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The provider&apos;s default: fp16 on a GPU, else fp32</source>
        <translation>执行设备的默认选择：GPU 上用 fp16，否则用 fp32</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{0} (present)</source>
        <translation>{0}（已存在）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>{0} (missing)</source>
        <translation>{0}（缺失）</translation>
    </message>
</context>
<context>
    <name>PreviewPanel</name>
    <message>
        <location filename="../../desktop/gui/preview_panel.py" line="+37"/>
        <source>Original</source>
        <translation>原图</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Swapped</source>
        <translation>换脸后</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+110"/>
        <source>Choose a target image or video</source>
        <translation>选择目标图片或视频</translation>
    </message>
    <message>
        <location line="-109"/>
        <location line="+110"/>
        <source>Add a source photo to see the swap</source>
        <translation>添加源照片以查看换脸效果</translation>
    </message>
    <message>
        <location line="-108"/>
        <source>Side by side</source>
        <translation>并排</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Before / after</source>
        <translation>前 / 后</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show original</source>
        <translation>显示原图</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Previous frame</source>
        <translation>上一帧</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Next frame</source>
        <translation>下一帧</translation>
    </message>
    <message>
        <location line="+67"/>
        <source>{0:.2f} s</source>
        <translation>{0:.2f} 秒</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Start live to see the camera</source>
        <translation>开始实时以查看摄像头画面</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start live to see the swap</source>
        <translation>开始实时以查看换脸效果</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>{0:.1f} fps · {1:.0f} ms · {2} dropped</source>
        <translation>{0:.1f} 帧/秒 · {1:.0f} 毫秒 · 丢弃 {2} 帧</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Camera: {0:.1f} fps</source>
        <translation>摄像头：{0:.1f} 帧/秒</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Latency: median {0:.0f} ms, 95% under {1:.0f} ms</source>
        <translation>延迟：中位数 {0:.0f} 毫秒，95% 低于 {1:.0f} 毫秒</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Frames: {0} processed, {1} dropped before processing, {2} not drawn</source>
        <translation>帧：已处理 {0}，处理前丢弃 {1}，未绘制 {2}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Frames that failed and passed unswapped: {0}</source>
        <translation>处理失败、未换脸直接显示的帧：{0}</translation>
    </message>
</context>
<context>
    <name>RemoteDialog</name>
    <message>
        <location filename="../../desktop/gui/remote_parts.py" line="+17"/>
        <source>{0} ready</source>
        <translation>{0} 个就绪</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{0} idle</source>
        <translation>{0} 个空闲</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{0} running</source>
        <translation>{0} 个运行中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{0} starting</source>
        <translation>{0} 个启动中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{0} throttled</source>
        <translation>{0} 个受限</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{0} unhealthy</source>
        <translation>{0} 个异常</translation>
    </message>
    <message>
        <location filename="../../desktop/gui/remote_dialog.py" line="+68"/>
        <source>Remote runs</source>
        <translation>远程运行</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>RunPod</source>
        <translation>RunPod</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>FaceDeck server</source>
        <translation>FaceDeck 服务器</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the endpoint&apos;s id in RunPod&apos;s console</source>
        <translation>RunPod 控制台中的端点 ID</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>A video is split into this many parts, each run on its own worker</source>
        <translation>视频被分成这么多段，每段在各自的工作节点上运行</translation>
    </message>
    <message>
        <location line="+3"/>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Give up when no worker has taken the job after this long</source>
        <translation>超过这段时间仍没有工作节点接手任务时放弃</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Endpoint</source>
        <translation>端点</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Run on</source>
        <translation>运行于</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Endpoint id</source>
        <translation>端点 ID</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Server URL</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Token</source>
        <translation>令牌</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Video segments</source>
        <translation>视频分段数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Wait for a worker</source>
        <translation>等待工作节点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Storage for videos and large photos (S3-compatible)</source>
        <translation>视频和大照片的存储（兼容 S3）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>blank: photos only, sent in the request</source>
        <translation>留空：仅照片，随请求发送</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>blank: AWS S3</source>
        <translation>留空：AWS S3</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>auto for Cloudflare R2</source>
        <translation>Cloudflare R2 填 auto</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>blank: the AWS credentials of this computer</source>
        <translation>留空：使用本机的 AWS 凭据</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Keep uploaded files</source>
        <translation>保留上传的文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave the uploads and results in the bucket after each job</source>
        <translation>每个任务结束后将上传的文件和结果留在存储桶中</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Bucket</source>
        <translation>存储桶</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Endpoint URL</source>
        <translation>端点地址</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Region</source>
        <translation>区域</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Prefix</source>
        <translation>前缀</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Access key id</source>
        <translation>访问密钥 ID</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Secret key</source>
        <translation>秘密访问密钥</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Test connection</source>
        <translation>测试连接</translation>
    </message>
    <message>
        <location line="+43"/>
        <source>blank: {0} from the environment</source>
        <translation>留空：使用环境变量 {0}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No system keyring found: the key is kept until FaceDeck closes</source>
        <translation>未找到系统密钥环：密钥仅保留到 FaceDeck 关闭</translation>
    </message>
    <message>
        <location line="+59"/>
        <source>Stopping the test…</source>
        <translation>正在停止测试…</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Testing the connection…</source>
        <translation>正在测试连接…</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>The test was stopped.</source>
        <translation>测试已停止。</translation>
    </message>
    <message>
        <location filename="../../desktop/gui/remote_parts.py" line="+39"/>
        <source>no worker counts</source>
        <translation>无工作节点数量</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Connected · workers: {0} · worker ready on {1}, FaceDeck {2}</source>
        <translation>已连接 · 工作节点：{0} · 工作节点已就绪，执行设备 {1}，FaceDeck {2}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Connected · workers: {0} · the worker is {1}: {2} ({3}, FaceDeck {4})</source>
        <translation>已连接 · 工作节点：{0} · 工作节点状态为 {1}：{2}（{3}，FaceDeck {4}）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source> · bucket {0} answers</source>
        <translation> · 存储桶 {0} 可访问</translation>
    </message>
</context>
<context>
    <name>RunOnController</name>
    <message>
        <location filename="../../desktop/gui/run_on.py" line="+55"/>
        <source>Provider: {0}</source>
        <translation>执行设备：{0}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Jobs run on RunPod endpoint {0}</source>
        <translation>任务在 RunPod 端点 {0} 上运行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Jobs run on the FaceDeck server at {0}</source>
        <translation>任务在 FaceDeck 服务器 {0} 上运行</translation>
    </message>
</context>
<context>
    <name>RunPanel</name>
    <message>
        <location filename="../../desktop/gui/run_panel.py" line="+25"/>
        <source>frames</source>
        <translation>帧</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>read</source>
        <translation>读取</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>identify</source>
        <translation>识别</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>swap</source>
        <translation>换脸</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>write</source>
        <translation>写出</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>uploading</source>
        <translation>上传中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>waiting for a worker</source>
        <translation>等待工作节点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>downloading the result</source>
        <translation>下载结果中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>splitting</source>
        <translation>分段中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>joining</source>
        <translation>合并中</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>{0} {1}</source>
        <translation>{0} {1}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> · {0:.1f} fps</source>
        <translation> · {0:.1f} 帧/秒</translation>
    </message>
    <message>
        <location line="+3"/>
        <source> · {0:.0f} s left</source>
        <translation> · 剩余 {0:.0f} 秒</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Save as…</source>
        <translation>另存为…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>next to the target</source>
        <translation>放在目标文件旁边</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Save the result as</source>
        <translation>将结果另存为</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
</context>
<context>
    <name>SecretField</name>
    <message>
        <location filename="../../desktop/gui/remote_parts.py" line="-42"/>
        <location line="+13"/>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Hide</source>
        <translation>隐藏</translation>
    </message>
</context>
<context>
    <name>SourcesPanel</name>
    <message>
        <location filename="../../desktop/gui/sources_panel.py" line="+68"/>
        <source>Add photos…</source>
        <translation>添加照片…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Source photos (drop files here; photos of one person are averaged)</source>
        <translation>源照片（将文件拖到这里；同一人的多张照片会取平均）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Faces in the selected photo (click the source face):</source>
        <translation>所选照片中的人脸（点击作为源的人脸）：</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Add source photos</source>
        <translation>添加源照片</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Images ({0})</source>
        <translation>图片 ({0})</translation>
    </message>
    <message>
        <location line="+40"/>
        <source>{0}
face {1}</source>
        <translation>{0}
人脸 {1}</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>Face {0}</source>
        <translation>人脸 {0}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>No face found in this photo</source>
        <translation>这张照片中没有找到人脸</translation>
    </message>
</context>
<context>
    <name>TargetPanel</name>
    <message>
        <location filename="../../desktop/gui/target_panel.py" line="+35"/>
        <source>Image or video file</source>
        <translation>图片或视频文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Drop an image or video here</source>
        <translation>将图片或视频拖到这里</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open…</source>
        <translation>打开…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>RunPod</source>
        <translation>RunPod</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>FaceDeck server</source>
        <translation>FaceDeck 服务器</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The endpoint, its key and the storage for remote runs</source>
        <translation>远程运行的端点、密钥和存储</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Target</source>
        <translation>目标</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Run on</source>
        <translation>运行于</translation>
    </message>
    <message>
        <location line="+48"/>
        <source>Live mode runs on this computer</source>
        <translation>实时模式在本机运行</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Choose the target</source>
        <translation>选择目标</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Images and videos ({0})</source>
        <translation>图片和视频 ({0})</translation>
    </message>
</context>
<context>
    <name>TrustBox</name>
    <message>
        <location filename="../../desktop/gui/model_prompts.py" line="-44"/>
        <source>Not the published model</source>
        <translation>不是发布的模型</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>These files differ from the models FaceDeck publishes (a conversion, another version, or a damaged or altered file):</source>
        <translation>这些文件与 FaceDeck 发布的模型不同（可能是转换过的、另一个版本，或已损坏或被改动的文件）：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Import them anyway and trust exactly these files on this computer? Only do this for files from a source you trust: a model file can be crafted to misbehave.</source>
        <translation>仍然导入，并在这台电脑上信任这些文件吗？只对来自可信来源的文件这样做：模型文件可能被恶意构造。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Trust and import</source>
        <translation>信任并导入</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Do not import</source>
        <translation>不导入</translation>
    </message>
</context>
<context>
    <name>VideoOptions</name>
    <message>
        <location filename="../../desktop/gui/video_options.py" line="+48"/>
        <source>Video</source>
        <translation>视频</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>to the end</source>
        <translation>直到结尾</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <location line="+8"/>
        <source> frames</source>
        <translation> 帧</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Run face detection every N frames and track the faces in between</source>
        <translation>每 N 帧运行一次人脸检测，其间的帧跟踪人脸</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Smooth face movement</source>
        <translation>平滑人脸运动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Keep the audio</source>
        <translation>保留音频</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Software only</source>
        <translation>仅软件编码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>NVENC only</source>
        <translation>仅 NVENC</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Automatic: the NVIDIA GPU&apos;s encoder (NVENC) when it works, else software</source>
        <translation>自动：可用时使用 NVIDIA GPU 的编码器（NVENC），否则使用软件编码</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Threads for a software encoder; 1 can be faster with a fast preset</source>
        <translation>软件编码器使用的线程数；配合快速预设时，1 个线程可能更快</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Start at</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>End at</source>
        <translation>结束时间</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Detect faces every</source>
        <translation>人脸检测间隔</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Hardware encoder</source>
        <translation>硬件编码器</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Encoder threads</source>
        <translation>编码线程数</translation>
    </message>
    <message>
        <location line="+70"/>
        <source>The end ({0}) must come after the start ({1}).</source>
        <translation>结束时间（{0}）必须晚于开始时间（{1}）。</translation>
    </message>
</context>
<context>
    <name>WindowMenus</name>
    <message>
        <location filename="../../desktop/gui/menus.py" line="+70"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;About FaceDeck</source>
        <translation>关于 FaceDeck(&amp;A)</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>&amp;Open target…</source>
        <translation>打开目标(&amp;O)…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Add source photos…</source>
        <translation>添加源照片(&amp;A)…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Save output as…</source>
        <translation>输出另存为(&amp;S)…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>S&amp;tart</source>
        <translation>开始(&amp;T)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Cancel job</source>
        <translation>取消任务(&amp;C)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Models…</source>
        <translation>模型(&amp;M)…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&amp;Side by side</source>
        <translation>并排(&amp;S)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Before / after</source>
        <translation>前后对比(&amp;B)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Show &amp;original</source>
        <translation>显示原图(&amp;O)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Previous frame</source>
        <translation>上一帧(&amp;P)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Next frame</source>
        <translation>下一帧(&amp;N)</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>&amp;Log</source>
        <translation>日志(&amp;L)</translation>
    </message>
    <message>
        <location line="+57"/>
        <source>About FaceDeck</source>
        <translation>关于 FaceDeck</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Swaps faces in photos and videos, on this computer.</source>
        <translation>在这台电脑上替换照片和视频中的面孔。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Use it only with the faces of people who have given their consent. Every image and video FaceDeck writes is marked as synthetic (AI-generated) media.</source>
        <translation>只可用于已经同意的人的面孔。FaceDeck 写出的每张图片和每个视频都会标记为合成（AI 生成）媒体。</translation>
    </message>
</context>
</TS>
