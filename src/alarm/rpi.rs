//! Raspberry Pi pins through `rppal` (feature `rpi`): plain outputs, and hardware PWM for a
//! *passive* buzzer (one that needs a tone, not a DC level).
//!
//! rppal drives the SoC's registers through `/dev/gpiomem` and refuses to run off a Pi, so this
//! module is only compile-checked in CI; the gpiocdev output is what the tests exercise, and it
//! works on the Pi 4 and 5 too. Prefer *active* buzzers (they sound on DC, so any output works,
//! and a stuck PWM cannot leave a half-driven transducer). rppal 0.22 is archived upstream.

use crate::alarm::pin::PinError;
use embedded_hal::digital::{ErrorType, OutputPin};
use rppal::pwm::{Channel, Polarity, Pwm};

/// A BCM pin driven as a level, or a PWM channel driven as a tone.
pub enum RpiPin {
    Level {
        pin: rppal::gpio::OutputPin,
        active_low: bool,
    },
    Tone {
        pwm: Pwm,
        bcm: u8,
    },
}

fn err(pin: u8, e: impl std::fmt::Display) -> PinError {
    PinError::Rpi {
        pin,
        why: e.to_string(),
    }
}

impl RpiPin {
    /// Opens BCM `pin`, inactive. With `pwm_hz`, the pin must be a hardware PWM pin (12 and 18
    /// are PWM0, 13 and 19 PWM1, with the `pwm-2chan` overlay) and it sounds at that frequency.
    pub fn open(bcm: u8, active_low: bool, pwm_hz: Option<f32>) -> Result<Self, PinError> {
        if let Some(hz) = pwm_hz {
            let channel = match bcm {
                12 | 18 => Channel::Pwm0,
                13 | 19 => Channel::Pwm1,
                _ => return Err(err(bcm, "hardware PWM is on BCM 12, 13, 18 or 19 only")),
            };
            let pwm = Pwm::with_frequency(channel, hz as f64, 0.5, Polarity::Normal, false)
                .map_err(|e| err(bcm, e))?;
            return Ok(RpiPin::Tone { pwm, bcm });
        }
        let gpio = rppal::gpio::Gpio::new().map_err(|e| err(bcm, e))?;
        let p = gpio.get(bcm).map_err(|e| err(bcm, e))?;
        let pin = if active_low {
            p.into_output_high()
        } else {
            p.into_output_low()
        };
        Ok(RpiPin::Level { pin, active_low })
    }
}

impl ErrorType for RpiPin {
    type Error = PinError;
}

impl OutputPin for RpiPin {
    fn set_low(&mut self) -> Result<(), PinError> {
        match self {
            RpiPin::Level { pin, active_low } => {
                pin.write((*active_low).into());
                Ok(())
            }
            RpiPin::Tone { pwm, bcm } => pwm.disable().map_err(|e| err(*bcm, e)),
        }
    }

    fn set_high(&mut self) -> Result<(), PinError> {
        match self {
            RpiPin::Level { pin, active_low } => {
                pin.write((!*active_low).into());
                Ok(())
            }
            RpiPin::Tone { pwm, bcm } => pwm.enable().map_err(|e| err(*bcm, e)),
        }
    }
}
