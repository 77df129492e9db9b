"""Style transfer: Gatys optimisation over VGG19 (the session in :mod:`.gatys`, its loss terms in
:mod:`.losses`, the shared VGG engine in :mod:`.engine`), generated looks (:mod:`.looks`) and the style
gallery (:mod:`.gallery`). Qt-free."""
