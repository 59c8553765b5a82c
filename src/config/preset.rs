//! `preset = "cmake" | "make" | "meson"`: the usual configure, build and test steps of a build
//! system, so a plain project needs no `[[steps]]`.

/// A build system whose usual steps gridrun knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// `cmake -S -B`, `cmake --build`, `ctest`.
    Cmake,
    /// `make` in the source folder, then `make check` where there is one.
    Make,
    /// `meson setup`, `meson compile`, `meson test`.
    Meson,
}

impl Preset {
    /// Every preset's name, for errors.
    pub const NAMES: [&'static str; 3] = ["cmake", "make", "meson"];

    /// The preset of this name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "cmake" => Some(Self::Cmake),
            "make" => Some(Self::Make),
            "meson" => Some(Self::Meson),
            _ => None,
        }
    }

    /// The steps with compiles going through ccache where `ccache` is on: CMake reads its launcher
    /// from the environment (`CMAKE_<LANG>_COMPILER_LAUNCHER`), Make and Meson take it in `CC` and
    /// `CXX` (`{{ ccache }}` renders to `ccache`, or nothing where this host has none).
    pub fn steps_with(self, ccache: bool) -> Vec<(&'static str, std::borrow::Cow<'static, str>, Option<&'static str>)> {
        self.steps()
            .iter()
            .map(|&(name, run, junit)| {
                let run = if ccache && self != Self::Cmake {
                    std::borrow::Cow::Owned(run.replace(
                        "CC={{ cc }} CXX={{ cxx }}",
                        r#"CC="{{ ccache }} {{ cc }}" CXX="{{ ccache }} {{ cxx }}""#,
                    ))
                } else {
                    std::borrow::Cow::Borrowed(run)
                };
                (name, run, junit)
            })
            .collect()
    }

    /// The steps, as (name, command template, JUnit file template).
    pub fn steps(self) -> &'static [(&'static str, &'static str, Option<&'static str>)] {
        match self {
            Self::Cmake => &[
                (
                    "configure",
                    "cmake -S {{ source }} -B {{ build_dir }} -DCMAKE_C_COMPILER={{ cc }} -DCMAKE_CXX_COMPILER={{ cxx }}\
                     {% if cxx_standard is defined %} -DCMAKE_CXX_STANDARD={{ cxx_standard }} -DCMAKE_CXX_STANDARD_REQUIRED=ON{% endif %}\
                     {% if build_type is defined %} -DCMAKE_BUILD_TYPE={{ build_type }}{% endif %}",
                    None,
                ),
                ("build", "cmake --build {{ build_dir }}", None),
                (
                    "test",
                    "ctest --test-dir {{ build_dir }} --output-on-failure --output-junit {{ results_dir }}/ctest.xml",
                    Some("{{ results_dir }}/ctest.xml"),
                ),
            ],
            Self::Make => &[
                ("build", "make -C {{ source }} CC={{ cc }} CXX={{ cxx }}", None),
                (
                    "test",
                    "if make -C {{ source }} -n check >/dev/null 2>&1; then make -C {{ source }} CC={{ cc }} CXX={{ cxx }} check; fi",
                    None,
                ),
            ],
            Self::Meson => &[
                (
                    "configure",
                    "CC={{ cc }} CXX={{ cxx }} meson setup {{ build_dir }} {{ source }}\
                     {% if cxx_standard is defined %} -Dcpp_std=c++{{ cxx_standard }}{% endif %}\
                     {% if build_type is defined %} --buildtype={{ build_type | lower }}{% endif %}",
                    None,
                ),
                ("build", "meson compile -C {{ build_dir }}", None),
                (
                    "test",
                    "meson test -C {{ build_dir }} && cp {{ build_dir }}/meson-logs/testlog.junit.xml {{ results_dir }}/meson.xml",
                    Some("{{ results_dir }}/meson.xml"),
                ),
            ],
        }
    }
}
